-- Each stored prediction next to what happened on its prediction date (NULL until that day is ingested).
with predictions as (select * from {{ source('dpm', 'model_predictions') }}),
actuals as (
    select account_id, date, net_profit, plan_type
    from {{ ref('int_account_snapshots_daily') }}
),

final as (
    select
        predictions.model_version,
        predictions.account_id,
        predictions.feature_date,
        predictions.prediction_date,
        actuals.plan_type,
        predictions.predicted_net_profit,
        predictions.lower_bound,
        predictions.upper_bound,
        predictions.high_risk,
        actuals.net_profit as actual_net_profit,
        actuals.net_profit - predictions.predicted_net_profit as error,
        abs(actuals.net_profit - predictions.predicted_net_profit) as abs_error,
        sign(actuals.net_profit) = sign(predictions.predicted_net_profit) as direction_hit,
        actuals.net_profit between predictions.lower_bound and predictions.upper_bound as in_interval,
        ntile(10) over (
            partition by predictions.model_version, predictions.feature_date
            order by predictions.predicted_net_profit
        ) as predicted_decile
    from predictions
    left join actuals on actuals.account_id = predictions.account_id and actuals.date = predictions.prediction_date
)

select * from final
