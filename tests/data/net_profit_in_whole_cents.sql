-- The rolling features sum daily net profit exactly in whole units of money (var money_decimals: cents):
-- a value with more decimals is rounded there. This lists such values, so the rounding is never silent.
{{ config(severity='warn') }}

{% set scale = 10 ** var('money_decimals') %}

select account_id, date, net_profit
from {{ ref('int_account_snapshots_daily') }}
where abs(net_profit * {{ scale }} - round(net_profit * {{ scale }})) > 1e-6
