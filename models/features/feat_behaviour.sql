{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- How each account trades, over trailing windows of {{ var('behaviour_windows') | join(' and ') }} days: activity,
-- sizes, holding times, stop-loss and take-profit use, direction, hours, weekends and instruments.

{%- set history = var('behaviour_windows') | sort | last %}
{#- a short batch (the nightly days) aggregates each output day's history; a long one slides windows -#}
{%- set join = {'output': 'o', 'history': 'h'} if batch_days and batch_days <= var('short_batch_days') else none %}

with days as (
    select account_id, date
    from {{ ref('int_pnl_daily') }}
    where {{ batch_input_filter('date', history) }}
),

activity as (
    select * from {{ ref('int_trading_activity_daily') }}
    where {{ batch_input_filter('date', history) }}
),

-- Counts as integer, so their window sums are bigint: sums of bigint would be numeric, which every ratio
-- below would convert to double precision through text, for every row and window.
daily as (
    select
        days.account_id,
        days.date,
        coalesce(a.trades_count, 0)::integer as trades_count,
        coalesce(a.lots_sum, 0) as lots_sum,
        coalesce(a.volume_usd_sum, 0) as volume_usd_sum,
        coalesce(a.duration_hours_sum, 0) as duration_hours_sum,
        coalesce(a.trades_with_stop_loss, 0)::integer as trades_with_stop_loss,
        coalesce(a.trades_with_take_profit, 0)::integer as trades_with_take_profit,
        coalesce(a.buy_trades, 0)::integer as buy_trades,
        coalesce(a.winning_trades, 0)::integer as winning_trades,
        coalesce(a.morning_trades, 0)::integer as morning_trades,
        coalesce(a.afternoon_trades, 0)::integer as afternoon_trades,
        coalesce(a.evening_trades, 0)::integer as evening_trades,
        coalesce(a.weekend_trades, 0)::integer as weekend_trades,
        coalesce(a.forex_trades, 0)::integer as forex_trades,
        coalesce(a.crypto_trades, 0)::integer as crypto_trades,
        coalesce(a.metals_trades, 0)::integer as metals_trades,
        coalesce(a.indices_trades, 0)::integer as indices_trades,
        coalesce(a.energy_trades, 0)::integer as energy_trades,
        a.top_symbol_share,
        a.symbol_hhi,
        a.symbol_entropy,
        a.distinct_symbols::integer as distinct_symbols,
        (a.trades_count is not null)::int as active_day,
        (extract(isodow from days.date) >= 6)::int as weekend_day,
        (a.trades_count is not null and extract(isodow from days.date) >= 6)::int as weekend_active_day
    from days
    left join activity as a on a.account_id = days.account_id and a.date = days.date
),

rolled as (
    select
        {{ 'o.' if join }}account_id,
        {{ 'o.' if join }}date,
        {% for w in var('behaviour_windows') -%}
        {% set n = trailing_agg('sum', 'trades_count', w, join) -%}
        {{ n }} as trades_count_{{ w }}d,
        {{ trailing_agg('sum', 'active_day', w, join) }} as active_days_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'duration_hours_sum', w, join), n) }} as avg_trade_duration_hours_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'lots_sum', w, join), n) }} as avg_lots_per_trade_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'volume_usd_sum', w, join), n) }} as avg_volume_per_trade_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'trades_with_stop_loss', w, join), n) }} as stop_loss_usage_rate_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'trades_with_take_profit', w, join), n) }}
            as take_profit_usage_rate_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'buy_trades', w, join), n) }} as buy_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'winning_trades', w, join), n) }} as trade_win_rate_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'morning_trades', w, join), n) }} as morning_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'afternoon_trades', w, join), n) }} as afternoon_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'evening_trades', w, join), n) }} as evening_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'weekend_trades', w, join), n) }} as weekend_share_{{ w }}d,
        {{ safe_divide(
            trailing_agg('sum', 'weekend_active_day', w, join), trailing_agg('sum', 'weekend_day', w, join)
        ) }} as weekend_active_rate_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'forex_trades', w, join), n) }} as forex_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'crypto_trades', w, join), n) }} as crypto_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'metals_trades', w, join), n) }} as metals_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'indices_trades', w, join), n) }} as indices_share_{{ w }}d,
        {{ safe_divide(trailing_agg('sum', 'energy_trades', w, join), n) }} as energy_share_{{ w }}d,
        {{ trailing_agg('avg', 'top_symbol_share', w, join) }} as top_symbol_concentration_{{ w }}d,
        {{ trailing_agg('avg', 'symbol_hhi', w, join) }} as symbol_hhi_{{ w }}d,
        {{ trailing_agg('avg', 'distinct_symbols', w, join) }} as distinct_symbols_{{ w }}d,
        -- consistency: how regular the activity and the sizes are
        {{ safe_divide(
            trailing_agg('stddev_samp', 'trades_count', w, join),
            trailing_agg('avg', 'trades_count', w, join)
        ) }} as trade_frequency_cv_{{ w }}d,
        {% set lots_per_trade = 'case when trades_count > 0 then lots_sum / trades_count end' -%}
        {{ safe_divide(
            trailing_agg('stddev_samp', lots_per_trade, w, join),
            trailing_agg('avg', lots_per_trade, w, join)
        ) }} as lot_size_cv_{{ w }}d{{ ',' if not loop.last }}
        {% endfor %}
    {% if join -%}
    from (select account_id, date from daily where {{ batch_output_filter('date') }}) as o
    join daily as h on h.account_id = o.account_id and h.date <= o.date and h.date > o.date - {{ history }}
    group by o.account_id, o.date
    {%- else -%}
    from daily
    {%- endif %}
),

final as (
    select * from rolled
    where {{ batch_output_filter('date') }}
)

select * from final
