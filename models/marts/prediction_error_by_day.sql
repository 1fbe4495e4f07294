with outcomes as (select * from {{ ref('prediction_outcomes') }} where actual_net_profit is not null),

final as (
    select
        model_version,
        prediction_date,
        count(*) as accounts,
        avg(abs_error) as mae,
        sqrt(avg(error * error)) as rmse,
        avg(direction_hit::int) as directional_accuracy,
        avg(in_interval::int) as interval_coverage,
        sum(predicted_net_profit) as predicted_total,
        sum(actual_net_profit) as actual_total
    from outcomes
    group by 1, 2
)

select * from final
