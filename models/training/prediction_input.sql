{{ config(materialized='view') }}

-- The modelled population on each feature day D: funded (phase 4), active (status 1) accounts with a
-- positive balance and at least {{ var('min_trading_days') }} trading days. `dpm predict` scores these rows.

with features as (select * from {{ ref('feature_store_account_daily') }}),

final as (
    select *
    from features
    where phase = 4
      and status = 1
      and current_balance > 0
      and active_trading_days_count >= {{ var('min_trading_days') }}
)

select * from final
