-- Features of day D aligned with the target: the account's net profit on its next trading day (the next
-- day it has a daily row). Rows whose next day is not known yet are left out (the original filled them
-- with 0, which biases the model toward flat days).

with eligible as (select * from {{ ref('prediction_input') }}),

next_days as (
    select
        account_id,
        date,
        {{ next_trading_day('date') }} as prediction_date,
        lead(net_profit) over (partition by account_id order by date) as target_net_profit
    from {{ ref('stg_accounts_daily_snapshots') }}
),

final as (
    select
        next_days.prediction_date,
        next_days.target_net_profit,
        eligible.*
    from eligible
    join next_days using (account_id, date)
    where next_days.prediction_date is not null
)

select * from final
