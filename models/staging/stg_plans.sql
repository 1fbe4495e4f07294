with plans as (select * from {{ ref('plans') }}),

final as (
    select
        -- ids
        plan_id,
        description as plan_name,
        type as plan_type,
        platform,
        broker,

        -- money and limits (percentages are plain numbers: 12.0 = 12%)
        starting_balance::double precision as starting_balance,
        profit_target_pct::double precision as profit_target_pct,
        max_trailing_drawdown_pct::double precision as max_drawdown_pct,
        daily_loss_limit_pct::double precision as max_daily_drawdown_pct,
        leverage::double precision as max_leverage,
        profit_share_pct::double precision as profit_share_pct,

        -- rules
        make_drawdown_static = 0 as is_drawdown_relative,
        liquidate_friday = 1 as liquidate_friday,
        inactivity_period,
        daily_drawdown_by_balance_equity = 1 as daily_drawdown_by_balance_equity,
        enable_consistency = 1 as enable_consistency,
        is_swing = 1 as is_swing,
        minimum_required_active_trading_days as min_trading_days,
        maximum_time as max_trading_days,

        -- timestamps
        inserted as inserted_at,
        updated as updated_at
    from plans
)

select * from final
