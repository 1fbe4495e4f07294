-- Calibration by predicted decile: does the bottom decile really hold the big losers?
with outcomes as (select * from {{ ref('prediction_outcomes') }} where actual_net_profit is not null),

final as (
    select
        model_version,
        predicted_decile,
        count(*) as predictions,
        avg(predicted_net_profit) as mean_predicted,
        avg(actual_net_profit) as mean_actual,
        avg(abs_error) as mae,
        avg(in_interval::int) as interval_coverage
    from outcomes
    group by 1, 2
)

select * from final
