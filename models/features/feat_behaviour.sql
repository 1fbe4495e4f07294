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

-- How each account trades, over trailing windows of {{ var('behaviour_windows') | join(' and ') }} days: activity,
-- sizes, holding times, stop-loss and take-profit use, direction, hours, weekends and instruments.

with days as (
    select account_id, date
    from {{ ref('stg_accounts_daily_snapshots') }}
    where {{ batch_input_filter('date', var('feature_history_days')) }}
),

activity as (
    select * from {{ ref('fct_daily_trading_activity') }}
    where {{ batch_input_filter('date', var('feature_history_days')) }}
),

daily as (
    select
        days.account_id,
        days.date,
        coalesce(a.trades_count, 0) as trades_count,
        coalesce(a.lots_sum, 0) as lots_sum,
        coalesce(a.volume_usd_sum, 0) as volume_usd_sum,
        coalesce(a.duration_hours_sum, 0) as duration_hours_sum,
        coalesce(a.trades_with_stop_loss, 0) as trades_with_stop_loss,
        coalesce(a.trades_with_take_profit, 0) as trades_with_take_profit,
        coalesce(a.buy_trades, 0) as buy_trades,
        coalesce(a.winning_trades, 0) as winning_trades,
        coalesce(a.morning_trades, 0) as morning_trades,
        coalesce(a.afternoon_trades, 0) as afternoon_trades,
        coalesce(a.evening_trades, 0) as evening_trades,
        coalesce(a.weekend_trades, 0) as weekend_trades,
        coalesce(a.forex_trades, 0) as forex_trades,
        coalesce(a.crypto_trades, 0) as crypto_trades,
        coalesce(a.metals_trades, 0) as metals_trades,
        coalesce(a.indices_trades, 0) as indices_trades,
        coalesce(a.energy_trades, 0) as energy_trades,
        a.top_symbol_share,
        a.symbol_hhi,
        a.symbol_entropy,
        a.distinct_symbols,
        (a.trades_count is not null)::int as active_day
    from days
    left join activity as a on a.account_id = days.account_id and a.date = days.date
),

rolled as (
    select
        account_id,
        date,
        {% for w in var('behaviour_windows') -%}
        {% set n = rolling('sum', 'trades_count', w) -%}
        {{ n }} as trades_count_{{ w }}d,
        {{ rolling('sum', 'active_day', w) }} as active_days_{{ w }}d,
        {{ safe_divide(rolling('sum', 'duration_hours_sum', w), n) }} as avg_trade_duration_hours_{{ w }}d,
        {{ safe_divide(rolling('sum', 'lots_sum', w), n) }} as avg_lots_per_trade_{{ w }}d,
        {{ safe_divide(rolling('sum', 'volume_usd_sum', w), n) }} as avg_volume_per_trade_{{ w }}d,
        {{ safe_divide(rolling('sum', 'trades_with_stop_loss', w), n) }} as stop_loss_usage_rate_{{ w }}d,
        {{ safe_divide(rolling('sum', 'trades_with_take_profit', w), n) }} as take_profit_usage_rate_{{ w }}d,
        {{ safe_divide(rolling('sum', 'buy_trades', w), n) }} as buy_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'winning_trades', w), n) }} as trade_win_rate_{{ w }}d,
        {{ safe_divide(rolling('sum', 'morning_trades', w), n) }} as morning_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'afternoon_trades', w), n) }} as afternoon_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'evening_trades', w), n) }} as evening_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'weekend_trades', w), n) }} as weekend_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'forex_trades', w), n) }} as forex_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'crypto_trades', w), n) }} as crypto_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'metals_trades', w), n) }} as metals_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'indices_trades', w), n) }} as indices_share_{{ w }}d,
        {{ safe_divide(rolling('sum', 'energy_trades', w), n) }} as energy_share_{{ w }}d,
        {{ rolling('avg', 'top_symbol_share', w) }} as top_symbol_concentration_{{ w }}d,
        {{ rolling('avg', 'symbol_hhi', w) }} as symbol_hhi_{{ w }}d,
        {{ rolling('avg', 'distinct_symbols', w) }} as distinct_symbols_{{ w }}d,
        -- consistency: how regular the activity and the sizes are
        {{ safe_divide(rolling('stddev_samp', 'trades_count', w), rolling('avg', 'trades_count', w)) }} as trade_frequency_cv_{{ w }}d,
        {{ safe_divide(rolling('stddev_samp', 'case when trades_count > 0 then lots_sum / trades_count end', w), rolling('avg', 'case when trades_count > 0 then lots_sum / trades_count end', w)) }} as lot_size_cv_{{ w }}d{{ ',' if not loop.last }}
        {% endfor %}
    from daily
),

final as (
    select * from rolled
    where {{ batch_output_filter('date') }}
)

select * from final
