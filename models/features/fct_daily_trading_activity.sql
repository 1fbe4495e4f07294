{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='date',
    begin='2000-01-01',
    lookback=2,
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['account_id', 'date'], 'unique': True}, {'columns': ['date']}],
    distributed_by='account_id'
) }}

-- What each account did on each trading day, from its closed trades: the daily building block of the
-- behaviour features (counts, sizes, holding times, stop-loss use, hours, instruments).

with trades as (
    select * from {{ ref('stg_trades_closed') }}
    where {{ batch_input_filter('trade_date') }}
),

symbol_counts as (
    select account_id, trade_date, symbol, count(*) as n
    from trades
    group by 1, 2, 3
),

concentration as (
    select
        account_id,
        trade_date,
        max(n)::double precision / sum(n) as top_symbol_share,
        sum(power(n::double precision, 2)) / power(sum(n)::double precision, 2) as symbol_hhi,
        case when count(*) > 1
             then -sum((n::double precision / t) * ln(n::double precision / t)) / ln(count(*))
             else 0 end as symbol_entropy
    from (select *, sum(n) over (partition by account_id, trade_date) as t from symbol_counts) as s
    group by 1, 2
),

daily as (
    select
        account_id,
        trade_date as date,

        -- counts and sizes
        count(*) as trades_count,
        sum(lots) as lots_sum,
        sum(volume_usd) as volume_usd_sum,
        sum(net_profit) as trades_net_profit,
        count(*) filter (where net_profit > 0) as winning_trades,
        count(distinct symbol) as distinct_symbols,

        -- holding time and risk controls
        sum(duration_hours) as duration_hours_sum,
        count(*) filter (where has_stop_loss) as trades_with_stop_loss,
        count(*) filter (where has_take_profit) as trades_with_take_profit,
        count(*) filter (where side = 'buy') as buy_trades,

        -- when (UTC hour of the open)
        count(*) filter (where extract(hour from open_time) between 6 and 11) as morning_trades,
        count(*) filter (where extract(hour from open_time) between 12 and 17) as afternoon_trades,
        count(*) filter (where extract(hour from open_time) >= 18 or extract(hour from open_time) < 6) as evening_trades,
        count(*) filter (where extract(isodow from open_time) >= 6) as weekend_trades,

        -- what
        count(*) filter (where {{ asset_class('symbol') }} = 'forex') as forex_trades,
        count(*) filter (where {{ asset_class('symbol') }} = 'crypto') as crypto_trades,
        count(*) filter (where {{ asset_class('symbol') }} = 'metals') as metals_trades,
        count(*) filter (where {{ asset_class('symbol') }} = 'indices') as indices_trades,
        count(*) filter (where {{ asset_class('symbol') }} = 'energy') as energy_trades
    from trades
    group by 1, 2
),

final as (
    select daily.*, concentration.top_symbol_share, concentration.symbol_hhi, concentration.symbol_entropy
    from daily
    join concentration on concentration.account_id = daily.account_id and concentration.trade_date = daily.date
    where {{ batch_output_filter('daily.date') }}
)

select * from final
