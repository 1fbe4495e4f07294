with daily as (select * from {{ source('raw', 'metrics_daily') }}),

final as (
    select
        -- ids
        account_id,
        date,
        login,
        plan_id,
        trader as trader_id,

        -- codes
        phase,
        status,

        -- money
        starting_balance::double precision as starting_balance,
        prior_days_balance::double precision as prior_days_balance,
        prior_days_equity::double precision as prior_days_equity,
        current_balance::double precision as current_balance,
        current_equity::double precision as current_equity,
        net_profit::double precision as net_profit,
        gross_profit::double precision as gross_profit,
        gross_loss::double precision as gross_loss,
        todays_payouts::double precision as todays_payouts,
        approved_payouts::double precision as approved_payouts,

        -- activity
        coalesce(num_trades, 0) as num_trades,
        total_lots::double precision as total_lots,
        total_volume::double precision as total_volume,
        success_rate::double precision as success_rate,
        days_since_first_trade,
        days_to_next_payout,

        -- open positions and margins (the API's statistics over D's snapshots)
        coalesce(max_num_open_pos, 0) as num_open_positions,
        mean_val_open_pos::double precision as open_positions_value,
        mean_val_to_eqty_open_pos::double precision as open_positions_value_to_equity,
        mean_account_margin::double precision as account_margin,
        mean_firm_margin::double precision as firm_margin
    from daily
)

select * from final
