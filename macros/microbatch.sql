{#
  The rows a microbatch needs: the batch's days plus `history_days` before them (for trailing windows).
  Outside a microbatch (compile, full build without bounds) every row qualifies.
#}
{% macro batch_input_filter(column, history_days=0) -%}
  {%- if batch_start -%}
    {{ column }} >= date '{{ batch_start }}' - {{ history_days }} and {{ column }} < date '{{ batch_end }}'
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{# Keeps only the batch's own days in a model's output. #}
{% macro batch_output_filter(column) -%}
  {%- if batch_start -%}
    {{ column }} >= date '{{ batch_start }}' and {{ column }} < date '{{ batch_end }}'
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}
