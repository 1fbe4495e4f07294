{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- Rolling performance of daily net profit over trailing calendar windows
-- ({{ var('rolling_windows') | join(', ') }} days). Windows with too few days give NULL: 0 would read as "flat trader".
-- Two ways to the same numbers (macros/rolling.sql): a short batch (the nightly days) aggregates each
-- output day's history; a long one (a full refresh) uses window functions over a dense calendar.

{%- set windows = var('rolling_windows') %}
{%- set history = var('feature_history_days') %}
{%- set multi_day = windows | reject('equalto', 1) | list %}
{%- set scale = 10 ** var('money_decimals') %}

-- Money sums are exact in whole cents (var money_decimals; integer: up to 21 million a day): a window's
-- total is then the same whichever way it is computed, and the difference of two running totals carries
-- no rounding of the history. (A sum of integers is a bigint; of bigint squares, a numeric cast back.)
with daily_pnl as (
    select account_id, date, net_profit, current_equity, round(net_profit * {{ scale }})::integer as cents
    from {{ ref('int_pnl_daily') }}
    where {{ batch_input_filter('date', history) }}
),

{% if batch_days and batch_days <= var('short_batch_days') %}
{%- set join = {'output': 'o', 'history': 'h'} %}

outputs as (
    select account_id, date, current_equity from daily_pnl
    where {{ batch_output_filter('date') }}
),

parts as (
    select
        o.account_id,
        o.date,
        o.current_equity,
        {% for days in windows -%}
        {{ filtered_parts(days, 'pnl', join) }},
        {% endfor -%}
        max(h.date) filter (where h.net_profit <= 0) as last_non_winning_day,
        max(h.date) filter (where h.net_profit >= 0) as last_non_losing_day,
        min(h.date) as window_start_{{ history }}d,
        {{ trailing_agg('max', 'h.current_equity', 30, join) }} as equity_peak_30d
    from outputs as o
    join daily_pnl as h on h.account_id = o.account_id and h.date <= o.date and h.date > o.date - {{ history }}
    group by o.account_id, o.date, o.current_equity
),

{% else %}

{{ dense_calendar('daily_pnl', ['net_profit', 'current_equity', 'cents'], 'calendar') }},

{{ sliding_extremes('calendar', ['account_id', 'date', 'net_profit', 'current_equity', 'cents', 'row_date'], [
    ['pnl_min', 'least', 'net_profit', multi_day],
    ['pnl_max', 'greatest', 'net_profit', multi_day],
    ['equity_peak', 'greatest', 'current_equity', [30]],
    ['window_start', 'least', 'row_date', [history]]
], 'extremes') }},

-- Running totals first: the lags below fetch them from earlier rows, and a row is decoded up to the
-- column read.
running as (
    select
        count(cents) over so_far as running_n,
        sum(cents) over so_far as running_sum,
        (sum(cents::bigint * cents) over so_far)::bigint as running_sq,
        sum(greatest(cents, 0)) over so_far as running_gain,
        sum(greatest(-cents, 0)) over so_far as running_loss,
        (sum(least(cents, 0)::bigint * least(cents, 0)) over so_far)::bigint as running_loss_sq,
        count(*) filter (where cents > 0) over so_far as running_wins,
        extremes.*,
        -- the last non-winning / non-losing day so far
        max(case when net_profit <= 0 then date end) over so_far as last_non_winning_day,
        max(case when net_profit >= 0 then date end) over so_far as last_non_losing_day
    from extremes
    window so_far as (partition by account_id order by date rows between unbounded preceding and current row)
),

windowed as (
    select
        running.*,
        {% for days in windows -%}
        {{ window_totals(days, 'by_day') }}{{ ',' if not loop.last }}
        {% endfor %}
    from running
    window by_day as (partition by account_id order by date)
),

parts as (
    select * from windowed
    where row_date is not null and {{ batch_output_filter('date') }}
),

{% endif %}

final as (
    select
        account_id,
        date,
        {% for days in windows -%}
        {{ rolling_performance(days, 'pnl', var('ratio_cap'), scale) }},
        {% endfor -%}
        -- consecutive winning / losing days ending today (capped at the history window)
        date - case
            when last_non_winning_day >= window_start_{{ history }}d then last_non_winning_day
            else window_start_{{ history }}d - 1
        end as win_streak_days,
        date - case
            when last_non_losing_day >= window_start_{{ history }}d then last_non_losing_day
            else window_start_{{ history }}d - 1
        end as loss_streak_days,
        {{ safe_divide('current_equity - equity_peak_30d', 'equity_peak_30d') }} as drawdown_from_30d_peak
    from parts
)

select * from final
