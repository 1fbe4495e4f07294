{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- What each account did on each trading day, from its closed trades: the daily building block of the
-- behaviour features (counts, sizes, holding times, stop-loss use, hours, instruments).

with trades as (
    select * from {{ ref('stg_trades_closed') }}
    where {{ batch_input_filter('trade_date') }}
),

-- One pass over the trades, grouped by account, day and symbol: the asset class and the symbol
-- concentration are properties of the symbol, so the day is a roll-up of these few rows (evaluating the
-- asset class per trade, a distinct count and a second scan for the concentration cost 3x as much).
by_symbol as (
    select
        account_id,
        trade_date,
        symbol,
        count(*) as n,
        sum(lots) as lots_sum,
        sum(volume_usd) as volume_usd_sum,
        sum(net_profit) as net_profit_sum,
        count(*) filter (where net_profit > 0) as winning,
        sum(duration_hours) as duration_hours_sum,
        count(*) filter (where has_stop_loss) as with_stop_loss,
        count(*) filter (where has_take_profit) as with_take_profit,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where {{ utc_hour('open_time') }} between 6 and 11) as morning,
        count(*) filter (where {{ utc_hour('open_time') }} between 12 and 17) as afternoon,
        count(*) filter (where {{ utc_hour('open_time') }} not between 6 and 17) as evening,
        count(*) filter (where {{ utc_isodow('open_time') }} >= 6) as weekend
    from trades
    group by 1, 2, 3
),

symbols as (
    select
        by_symbol.*,
        {{ asset_class('symbol') }} as asset_class,
        sum(n) over (partition by account_id, trade_date) as t
    from by_symbol
),

daily as (
    select
        account_id,
        trade_date as date,

        -- counts and sizes
        sum(n)::bigint as trades_count,
        sum(lots_sum) as lots_sum,
        sum(volume_usd_sum) as volume_usd_sum,
        sum(net_profit_sum) as trades_net_profit,
        sum(winning)::bigint as winning_trades,
        count(symbol) as distinct_symbols,

        -- holding time and risk controls
        sum(duration_hours_sum) as duration_hours_sum,
        sum(with_stop_loss)::bigint as trades_with_stop_loss,
        sum(with_take_profit)::bigint as trades_with_take_profit,
        sum(buys)::bigint as buy_trades,

        -- when (UTC hour of the open)
        sum(morning)::bigint as morning_trades,
        sum(afternoon)::bigint as afternoon_trades,
        sum(evening)::bigint as evening_trades,
        sum(weekend)::bigint as weekend_trades,

        -- what
        coalesce(sum(n) filter (where asset_class = 'forex'), 0)::bigint as forex_trades,
        coalesce(sum(n) filter (where asset_class = 'crypto'), 0)::bigint as crypto_trades,
        coalesce(sum(n) filter (where asset_class = 'metals'), 0)::bigint as metals_trades,
        coalesce(sum(n) filter (where asset_class = 'indices'), 0)::bigint as indices_trades,
        coalesce(sum(n) filter (where asset_class = 'energy'), 0)::bigint as energy_trades,

        -- concentration on symbols
        max(n)::double precision / sum(n) as top_symbol_share,
        sum(power(n::double precision, 2)) / power(sum(n)::double precision, 2) as symbol_hhi,
        case when count(*) > 1
             then -sum((n::double precision / t) * ln(n::double precision / t)) / ln(count(*))
             else 0 end as symbol_entropy
    from symbols
    group by 1, 2
),

final as (
    select * from daily
    where {{ batch_output_filter('date') }}
)

select * from final
