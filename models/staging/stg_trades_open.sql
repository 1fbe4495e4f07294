with trades as (select * from {{ source('raw', 'trades_open') }}),
accounts as (select * from {{ ref('stg_accounts') }}),

final as (
    select
        accounts.account_id,
        trades.trade_date,
        trades.position,
        trades.std_symbol as symbol,
        lower(trades.side) as side,
        trades.lots::double precision as lots,
        trades.volume_usd::double precision as volume_usd,
        trades.profit::double precision as unrealized_pnl,
        trades.open_time
    from trades
    join accounts
      on accounts.login = trades.login and accounts.platform = trades.platform and accounts.broker = trades.broker
)

select * from final
