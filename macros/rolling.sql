{#
  Trailing windows of calendar days, per account. A worked example, 7-day sums of net profit two ways:

    -- window functions over every row (a full refresh):
    select account_id, date, {{ trailing_agg('sum', 'net_profit', 7) }} as pnl_sum_7d
    from daily
    -- =>  sum(net_profit) over (partition by account_id order by date
    --                           range between interval '6 days' preceding and current row)

    -- output rows `o` joined to their history rows `h` (a short nightly batch):
    {%- set join = {'output': 'o', 'history': 'h'} %}
    select o.account_id, o.date, {{ trailing_agg('sum', 'h.net_profit', 7, join) }} as pnl_sum_7d
    from outputs as o
    join daily as h on h.account_id = o.account_id and h.date <= o.date and h.date > o.date - 90
    group by o.account_id, o.date
    -- =>  sum(h.net_profit) filter (where h.date > o.date - 7)

  Both give the same numbers for day D (days D-6..D); feat_rolling_performance and feat_behaviour use them.
#}

{#
  Rolling statistics over a trailing window of calendar days ending at the row's day, per account.
  Calendar windows (RANGE with an interval) rather than row counts make a feature of day D depend only
  on days D-N+1..D, so a microbatch that re-reads the last N days computes exactly what a full rebuild does.
#}
{% macro trailing(days, partition='account_id', order='date') -%}
  over (partition by {{ partition }} order by {{ order }}
      range between interval '{{ days - 1 }} days' preceding and current row)
{%- endmacro %}

{% macro rolling(agg, expr, days, partition='account_id', order='date') -%}
  {{ agg }}({{ expr }}) {{ trailing(days, partition, order) }}
{%- endmacro %}

{#
  `rolling`, or with `join` ({'output': alias, 'history': alias}) the same aggregate over history rows joined to
  output rows and grouped by them: a short batch then reads each output day's history once, where window
  functions compute every history day too (and re-aggregate a double precision frame for each).
#}
{% macro trailing_agg(agg, expr, days, join=none) -%}
  {%- if join -%}
  {{ agg }}({{ expr }}) filter (where {{ join.history }}.date > {{ join.output }}.date - {{ days }})
  {%- else -%}
  {{ rolling(agg, expr, days) }}
  {%- endif -%}
{%- endmacro %}

{#
  Trailing windows without sliding frames. PostgreSQL re-aggregates a sliding frame of double precision
  values for every row (floats have no inverse transition function), so its cost grows with the window.
  Over a dense calendar (one row per account and day, NULL on days without data) "the last N days" is
  "the last N rows", and:
  - a sum or count over N days is the running total minus the running total N rows back (window_total);
  - a minimum or maximum over N days is the min/max of two overlapping power-of-two blocks, each block
    built from two halves one level down (sliding_extremes);
  both read a constant number of rows per row, whatever N.
#}

{#
  CTE `name`: every day of each account's span in `source`, with `columns` of source (NULL on days without a
  row) and `row_date`, the date of the source row or NULL.
#}
{% macro dense_calendar(source, columns, name, partition='account_id', order='date') -%}
{{ name }}_spans as (
    select {{ partition }}, min({{ order }}) as first_day, max({{ order }}) as last_day
    from {{ source }}
    group by {{ partition }}
),

{{ name }} as (
    select
        spans.{{ partition }},
        day::date as {{ order }},
        {% for c in columns %}{{ source }}.{{ c }},
        {% endfor %}{{ source }}.{{ order }} as row_date
    from {{ name }}_spans as spans
    cross join lateral generate_series(spans.first_day, spans.last_day, interval '1 day') as day
    left join {{ source }}
        on {{ source }}.{{ partition }} = spans.{{ partition }} and {{ source }}.{{ order }} = day::date
)
{%- endmacro %}

{#
  The totals of one window as bigint columns n_<days>d, sum_<days>d, sq_<days>d (squares), gain_<days>d,
  loss_<days>d, loss_sq_<days>d (squared losses) and wins_<days>d, in whole units of money (cents), from
  the running totals running_n, running_sum, ... over the dense calendar: the running total minus the
  running total `days` rows back, exact. `window` names the query's window of one account's rows by date.
#}
{% macro window_total(running_column, days, window) -%}
  ({{ running_column }} - coalesce(lag({{ running_column }}, {{ days }}) over {{ window }}, 0))
{%- endmacro %}

{% macro window_totals(days, window) -%}
  {%- set totals = ['n', 'sum', 'sq', 'gain', 'loss', 'loss_sq', 'wins'] if days > 1 else ['n', 'sum'] -%}
  {%- for t in totals %}
  {{ window_total('running_' ~ t, days, window) }} as {{ t }}_{{ days }}d{{ ',' if not loop.last }}
  {%- endfor %}
{%- endmacro %}

{#
  CTEs ending in `name`: for each series [column, 'least' | 'greatest', expression, windows], the minimum or
  maximum of `expression` over each trailing window of days, as `<column>_<days>d`, over the dense calendar
  `source` (see dense_calendar); the `carry` columns of source are passed through.
  A block `<column>_b<k>` is the extreme of the k rows ending at the row; block 2k is two blocks of k, the
  later one k rows back; a window of n days (k <= n < 2k) is two overlapping blocks of k. Each level keeps
  only what later levels read: a lag fetches a whole row, so wide rows would slow every level.
#}
{% macro sliding_extremes(source, carry, series, name, partition='account_id', order='date') -%}
{%- set longest = [] %}
{%- for s in series %}{% for w in s[3] %}{% if longest.push(w) %}{% endif %}{% endfor %}{% endfor %}
{%- set longest = longest | sort | last %}
{{ name }}_b1 as (
    select {{ carry | join(', ') }}{% for s in series %}, {{ s[2] }} as {{ s[0] }}_b1{% endfor %}
    from {{ source }}
),
{%- for k in range(0, 16) %}
{%- set b = 2 ** k %}
{%- if b <= longest %}
{%- set last = b * 2 > longest %}

{{ name if last else name ~ '_b' ~ (b * 2) }} as (
    select
        {{ carry | join(', ') }}
        {%- for s in series %}
        {%- for w in s[3] %}{% if w < b %}, {{ s[0] }}_{{ w }}d{% endif %}{% endfor %}
        {%- if b * 2 <= (s[3] | sort | last) %},
        {{ s[1] }}({{ s[0] }}_b{{ b }}, lag({{ s[0] }}_b{{ b }}, {{ b }}) over by_day) as {{ s[0] }}_b{{ b * 2 }}
        {%- endif %}
        {%- for w in s[3] %}{% if w >= b and w < b * 2 %},
        {% if w == b %}{{ s[0] }}_b{{ b }}
        {%- else %}{{ s[1] }}({{ s[0] }}_b{{ b }}, lag({{ s[0] }}_b{{ b }}, {{ w - b }}) over by_day)
        {%- endif %} as {{ s[0] }}_{{ w }}d
        {%- endif %}{% endfor %}
        {%- endfor %}
    from {{ name }}_b{{ b }}
    window by_day as (partition by {{ partition }} order by {{ order }})
){{ ',' if not last }}
{%- endif %}
{%- endfor %}
{%- endmacro %}

{#
  The same parts as window_totals and sliding_extremes for output rows joined to their trailing history rows
  (`join`: {'output': alias, 'history': alias}; history.date in the last `days` days of output.date), as
  aggregates of a GROUP BY of the output rows, from the history's `cents` (integer money) and `net_profit`.
  For a short batch, this reads each output day's history once; the window functions compute every history day too.
#}
{% macro filtered_parts(days, prefix, join) -%}
  {%- set cents = join.history ~ '.cents' -%}
  {%- set net_profit = join.history ~ '.net_profit' -%}
  {{ trailing_agg('count', cents, days, join) }} as n_{{ days }}d,
  {{ trailing_agg('sum', cents, days, join) }} as sum_{{ days }}d
  {%- if days > 1 %},
  ({{ trailing_agg('sum', cents ~ '::bigint * ' ~ cents, days, join) }})::bigint as sq_{{ days }}d,
  {{ trailing_agg('sum', 'greatest(' ~ cents ~ ', 0)', days, join) }} as gain_{{ days }}d,
  {{ trailing_agg('sum', 'greatest(-' ~ cents ~ ', 0)', days, join) }} as loss_{{ days }}d,
  ({{ trailing_agg('sum', 'least(' ~ cents ~ ', 0)::bigint * least(' ~ cents ~ ', 0)', days, join) }})::bigint
    as loss_sq_{{ days }}d,
  {{ trailing_agg('count', 'case when ' ~ cents ~ ' > 0 then 1 end', days, join) }} as wins_{{ days }}d,
  {{ trailing_agg('min', net_profit, days, join) }} as {{ prefix }}_min_{{ days }}d,
  {{ trailing_agg('max', net_profit, days, join) }} as {{ prefix }}_max_{{ days }}d
  {%- endif %}
{%- endmacro %}

{#
  Sum, mean, dispersion, extremes, win rate, profit factor and Sharpe/Sortino-like ratios of a window, from
  the integer totals of window_totals / filtered_parts (units of 1 / `scale`) and the extremes
  <prefix>_min_<days>d / <prefix>_max_<days>d. n * sum(x^2) - sum(x)^2 is computed on integers, exact in
  double precision below 2^53 (a 90-day window of 100 000 a day), so equal days give a deviation of exactly 0.
#}
{% macro rolling_performance(days, prefix, cap, scale) -%}
  {%- set n = 'n_' ~ days ~ 'd' -%}
  {%- set total = '(sum_' ~ days ~ 'd::double precision / ' ~ scale ~ ')' -%}
  {%- set mean = safe_divide(total, n) -%}
  {%- set std = 'case when ' ~ n ~ ' > 1 then sqrt((' ~ n ~ '::double precision * sq_' ~ days ~ 'd'
    ~ ' - sum_' ~ days ~ 'd::double precision * sum_' ~ days ~ 'd) / (' ~ n ~ ' * (' ~ n ~ ' - 1))) / '
    ~ scale ~ ' end' -%}
  {%- set downside = 'sqrt(' ~ safe_divide('loss_sq_' ~ days ~ 'd', n) ~ ') / ' ~ scale -%}
  {{ total }} as {{ prefix }}_sum_{{ days }}d,
  {{ mean }} as {{ prefix }}_avg_{{ days }}d,
  {% if days > 1 -%}
  {{ std }} as {{ prefix }}_std_{{ days }}d,
  {{ prefix }}_min_{{ days }}d,
  {{ prefix }}_max_{{ days }}d,
  {{ safe_divide('wins_' ~ days ~ 'd', n) }} as {{ prefix }}_win_rate_{{ days }}d,
  {{ safe_divide('gain_' ~ days ~ 'd', 'loss_' ~ days ~ 'd') }} as {{ prefix }}_profit_factor_{{ days }}d,
  {{ clip(safe_divide(mean, std) ~ ' * sqrt(252)', -cap, cap) }} as {{ prefix }}_sharpe_{{ days }}d,
  {{ clip(safe_divide(mean, downside) ~ ' * sqrt(252)', -cap, cap) }} as {{ prefix }}_sortino_{{ days }}d,
  {%- endif %}
  {{ n }} as {{ prefix }}_days_{{ days }}d
{%- endmacro %}
