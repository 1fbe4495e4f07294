{# A ratio that is NULL (not an error) when the denominator is zero or NULL. #}
{% macro safe_divide(numerator, denominator) -%}
  (({{ numerator }})::double precision / nullif(({{ denominator }})::double precision, 0))
{%- endmacro %}

{# Clamps a value into [lo, hi]; NULL stays NULL. #}
{% macro clip(expr, lo, hi) -%}
  least(greatest(({{ expr }})::double precision, {{ lo }}), {{ hi }})
{%- endmacro %}
