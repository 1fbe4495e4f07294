-- The newest pipeline derives accounts from the all-time metrics; so does dpm (one row per account).
with alltime as (select * from {{ source('raw', 'metrics_alltime') }}),

final as (
    select
        -- ids
        account_id,
        login,
        mt_version as platform,
        broker,
        trader as trader_id,
        plan_id,

        -- codes
        phase,
        status,
        type as plan_type_code,
        country,

        -- money
        starting_balance::double precision as starting_balance,

        -- timestamps
        first_trade_date,
        updated_date
    from alltime
)

select * from final
