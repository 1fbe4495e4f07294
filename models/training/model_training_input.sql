{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='prediction_date',
    begin='2000-01-01',
    lookback=2,
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['prediction_date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- Features of day D aligned with the target: the account's net profit on D + 1 (every live day has a daily
-- row, weekends included, so D + 1 is the account's next trading day). Rows whose D + 1 is not known yet are
-- left out, not filled with 0, which would bias the model toward flat days. Batched by the day
-- predicted: the day that arrives completes the rows of the day before it, so one new day costs one day.

with eligible as (
    select * from {{ ref('prediction_input') }}
    where {{ batch_input_filter('date', 1) }}
),

next_days as (
    select
        account_id,
        date as prediction_date,
        net_profit as target_net_profit
    from {{ ref('int_account_snapshots_daily') }}
    where {{ batch_output_filter('date') }}
),

final as (
    select
        next_days.prediction_date,
        next_days.target_net_profit,
        eligible.*
    from eligible
    -- on the plain date column, so an index or hash join can use it (neither can on "date - 1")
    join next_days on next_days.account_id = eligible.account_id and next_days.prediction_date = eligible.date + 1
)

select * from final
