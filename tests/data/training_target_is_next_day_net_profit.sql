-- The target of feature day D is the same account's net profit on D + 1, never a later or earlier day.
with training as (select account_id, date, prediction_date, target_net_profit from {{ ref('model_training_input') }}),
snapshots as (select account_id, date, net_profit from {{ ref('int_account_snapshots_daily') }}),

final as (
    select training.*, snapshots.net_profit as net_profit_of_next_day
    from training
    left join snapshots on snapshots.account_id = training.account_id and snapshots.date = training.date + 1
    where snapshots.net_profit is distinct from training.target_net_profit
)

select * from final
