with outcomes as (select * from {{ ref('prediction_outcomes') }} where actual_net_profit is not null),

final as (
    select
        model_version,
        coalesce(plan_type, 'unknown') as plan_type,
        count(*) as predictions,
        avg(abs_error) as mae,
        sqrt(avg(error * error)) as rmse,
        avg(direction_hit::int) as directional_accuracy,
        avg(in_interval::int) as interval_coverage
    from outcomes
    group by 1, 2
)

select * from final
