{# Calendar features of a date column; Monday = 0 as in the original pipeline. #}
{% macro temporal_features(d) -%}
  (extract(isodow from {{ d }})::int - 1) as day_of_week,
  ((extract(day from {{ d }})::int - 1) / 7 + 1) as week_of_month,
  extract(month from {{ d }})::int as month,
  extract(quarter from {{ d }})::int as quarter,
  extract(doy from {{ d }})::int as day_of_year,
  (extract(day from {{ d }}) <= 3) as is_month_start,
  (extract(day from {{ d }}) >= 28) as is_month_end,
  (extract(month from {{ d }})::int in (1, 4, 7, 10) and extract(day from {{ d }}) <= 3) as is_quarter_start,
  (extract(month from {{ d }})::int in (3, 6, 9, 12) and extract(day from {{ d }}) >= 28) as is_quarter_end,
  ((date_trunc('month', {{ d }}) + interval '1 month' - interval '1 day')::date - {{ d }}) as days_to_month_end
{%- endmacro %}

{# The latest row of `relation` at or before `d` (an as-of join); use after FROM as a lateral join. #}
{% macro asof_join(relation, alias, d, relation_date='date') -%}
  left join lateral (
    select * from {{ relation }} as asof_src
    where asof_src.{{ relation_date }} <= {{ d }}
    order by asof_src.{{ relation_date }} desc
    limit 1
  ) as {{ alias }} on true
{%- endmacro %}

{# Asset class of a standard symbol: a mapping kept in one place. #}
{% macro asset_class(symbol) -%}
  case
    when {{ symbol }} in ('BTCUSD', 'ETHUSD', 'LTCUSD', 'XRPUSD', 'SOLUSD') then 'crypto'
    when {{ symbol }} in ('XAUUSD', 'XAGUSD') then 'metals'
    when {{ symbol }} in ('USOUSD', 'UKOUSD', 'XNGUSD') then 'energy'
    when {{ symbol }} in ('US30', 'SPX500', 'NDX100', 'GER40', 'UK100', 'JPN225') then 'indices'
    when {{ symbol }} ~ '^[A-Z]{6}$' then 'forex'
    else 'other'
  end
{%- endmacro %}

{#
  Hour (0-23) and ISO weekday (1 = Monday) of a timestamptz in UTC, whatever the session's time zone
  (extract(hour ...) follows the session's TimeZone): from the seconds since the epoch, which are UTC by
  definition, and cheaper than extract, which returns numeric.
#}
{% macro utc_hour(ts) -%}
  ((floor(date_part('epoch', {{ ts }}) / 3600)::bigint % 24 + 24) % 24)
{%- endmacro %}

{% macro utc_isodow(ts) -%}
  (((floor(date_part('epoch', {{ ts }}) / 86400)::bigint + 3) % 7 + 7) % 7 + 1)
{%- endmacro %}
