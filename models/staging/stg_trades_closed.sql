-- Trades carry no account id: they belong to the account whose (login, platform, broker) matches.
with trades as (select * from {{ source('raw', 'trades_closed') }}),
accounts as (select * from {{ ref('stg_accounts') }}),

final as (
    select
        -- ids
        accounts.account_id,
        trades.platform,
        trades.position,
        trades.login,
        trades.trade_date,

        -- instrument and side (the API capitalises the side; compare case-insensitively)
        trades.std_symbol as symbol,
        lower(trades.side) as side,

        -- size
        trades.lots::double precision as lots,
        trades.volume_usd::double precision as volume_usd,

        -- money
        trades.profit::double precision as profit,
        trades.commission::double precision as commission,
        trades.swap::double precision as swap,
        trades.fee::double precision as fee,
        (
            trades.profit + coalesce(trades.commission, 0) + coalesce(trades.swap, 0) + coalesce(trades.fee, 0)
        )::double precision as net_profit,

        -- risk controls
        trades.stop_loss is not null and trades.stop_loss <> 0 as has_stop_loss,
        trades.take_profit is not null and trades.take_profit <> 0 as has_take_profit,

        -- timestamps
        trades.open_time,
        trades.close_time,
        trades.duration::double precision as duration_hours
    from trades
    join accounts
      on accounts.login = trades.login and accounts.platform = trades.platform and accounts.broker = trades.broker
)

select * from final
