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

-- Rolling performance of daily net profit over trailing calendar windows ({{ var('rolling_windows') | join(', ') }} days).
-- Windows with too few days give NULL (the original filled them with 0, which reads as "flat trader").

with snapshots as (
    select account_id, date, net_profit, current_equity
    from {{ ref('stg_accounts_daily_snapshots') }}
    where {{ batch_input_filter('date', var('feature_history_days')) }}
),

streaks as (
    select
        snapshots.*,
        max(case when net_profit <= 0 then date end) {{ trailing(var('feature_history_days')) }} as last_non_winning_day,
        max(case when net_profit >= 0 then date end) {{ trailing(var('feature_history_days')) }} as last_non_losing_day,
        min(date) {{ trailing(var('feature_history_days')) }} as window_start,
        max(current_equity) {{ trailing(30) }} as equity_peak_30d
    from snapshots
),

rolled as (
    select
        account_id,
        date,
        {% for days in var('rolling_windows') -%}
        {{ rolling_performance('net_profit', days, 'pnl', var('ratio_cap')) }},
        {% endfor -%}
        -- consecutive winning / losing days ending today (capped at the history window)
        date - coalesce(last_non_winning_day, window_start - 1) as win_streak_days,
        date - coalesce(last_non_losing_day, window_start - 1) as loss_streak_days,
        {{ safe_divide('current_equity - equity_peak_30d', 'equity_peak_30d') }} as drawdown_from_30d_peak
    from streaks
),

final as (
    select * from rolled
    where {{ batch_output_filter('date') }}
)

select * from final
