{# A ratio that is NULL (not an error) when the denominator is zero or NULL. #}
{% macro safe_divide(numerator, denominator) -%}
  (({{ numerator }})::double precision / nullif(({{ denominator }})::double precision, 0))
{%- endmacro %}

{#
  Clamps a value into [lo, hi]; NULL stays NULL. The CASE is needed: greatest() and least() ignore NULL
  arguments, so least(greatest(NULL, -10), 10) is -10, not NULL. (Repeating `expr` costs nothing for window
  aggregates: PostgreSQL computes identical window function calls once.)
#}
{% macro clip(expr, lo, hi) -%}
  (case when ({{ expr }}) is null then null
      else least(greatest(({{ expr }})::double precision, {{ lo }}), {{ hi }}) end)
{%- endmacro %}
