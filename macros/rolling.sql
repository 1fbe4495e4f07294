{#
  Rolling statistics over a trailing window of calendar days ending at the row's day, per account.
  Calendar windows (RANGE with an interval) rather than row counts make a feature of day D depend only
  on days D-N+1..D, so a microbatch that re-reads the last N days computes exactly what a full rebuild does.
#}
{% macro trailing(days, partition='account_id', order='date') -%}
  over (partition by {{ partition }} order by {{ order }} range between interval '{{ days - 1 }} days' preceding and current row)
{%- endmacro %}

{% macro rolling(agg, expr, days, partition='account_id', order='date') -%}
  {{ agg }}({{ expr }}) {{ trailing(days, partition, order) }}
{%- endmacro %}

{# Sum, mean, dispersion, extremes, win rate, profit factor and Sharpe/Sortino-like ratios of a daily series. #}
{% macro rolling_performance(value, days, prefix, cap) -%}
  {{ rolling('sum', value, days) }} as {{ prefix }}_sum_{{ days }}d,
  {{ rolling('avg', value, days) }} as {{ prefix }}_avg_{{ days }}d,
  {% if days > 1 -%}
  {{ rolling('stddev_samp', value, days) }} as {{ prefix }}_std_{{ days }}d,
  {{ rolling('min', value, days) }} as {{ prefix }}_min_{{ days }}d,
  {{ rolling('max', value, days) }} as {{ prefix }}_max_{{ days }}d,
  {{ safe_divide(rolling('count', 'case when ' ~ value ~ ' > 0 then 1 end', days), rolling('count', value, days)) }} as {{ prefix }}_win_rate_{{ days }}d,
  {{ safe_divide(rolling('sum', 'greatest(' ~ value ~ ', 0)', days), rolling('sum', 'greatest(-' ~ value ~ ', 0)', days)) }} as {{ prefix }}_profit_factor_{{ days }}d,
  {{ clip(safe_divide(rolling('avg', value, days), rolling('stddev_samp', value, days)) ~ ' * sqrt(252)', -cap, cap) }} as {{ prefix }}_sharpe_{{ days }}d,
  {{ clip(safe_divide(rolling('avg', value, days), 'sqrt(' ~ rolling('avg', 'power(least(' ~ value ~ ', 0), 2)', days) ~ ')') ~ ' * sqrt(252)', -cap, cap) }} as {{ prefix }}_sortino_{{ days }}d,
  {%- endif %}
  {{ rolling('count', value, days) }} as {{ prefix }}_days_{{ days }}d
{%- endmacro %}
