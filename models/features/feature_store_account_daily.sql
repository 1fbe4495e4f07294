{{ config(materialized='view') }}

-- The feature store: one row per account and day D, using only what is known at the end of D.
-- Families: static (plan), dynamic state, rolling performance, behaviour, market regime, temporal,
-- and interactions of the account's form with the regime.
-- A view over the family tables, each incremental with a unique (date, account_id) index: a table
-- here copied them into a 924 MB fourth table on every full refresh (15 of 55 s on 2 000 x 365), while its
-- readers take one day (`dpm predict`, through the date indexes) or the eligible rows (the training table).

{%- set relative_money = [
    'net_profit', 'open_pnl', 'distance_to_daily_loss_limit',
    'pnl_avg_7d', 'pnl_avg_30d', 'pnl_std_7d', 'pnl_std_30d', 'pnl_min_30d', 'pnl_max_30d'
] %}

with snapshots as (
    select * from {{ ref('int_account_snapshots_daily') }}
),

rolling as (
    select * from {{ ref('feat_rolling_performance') }}
),

behaviour as (
    select * from {{ ref('feat_behaviour') }}
),

regimes as (select * from {{ ref('feat_market_regime') }}),

open_positions as (select * from {{ ref('int_open_positions_daily') }}),

state as (
    select
        -- ids
        s.account_id,
        s.date,
        s.plan_id,
        s.phase,
        s.status,

        -- static: plan rules
        s.starting_balance,
        s.profit_target_pct,
        s.max_daily_drawdown_pct,
        s.max_drawdown_pct,
        s.max_leverage,
        s.is_drawdown_relative::int as is_drawdown_relative,
        s.liquidate_friday::int as liquidate_friday,
        s.inactivity_period,
        s.daily_drawdown_by_balance_equity::int as daily_drawdown_by_balance_equity,
        s.enable_consistency::int as enable_consistency,
        s.profit_share_pct,

        -- dynamic: state at the end of D
        s.current_balance,
        s.current_equity,
        s.net_profit,
        s.open_pnl,
        coalesce(op.open_positions, 0) as open_positions,
        coalesce(op.open_positions_volume, 0) as open_positions_volume,
        s.open_positions_value_to_equity,
        {{ safe_divide('s.account_margin', 's.current_equity') }} as margin_to_equity,
        s.distance_to_profit_target,
        s.distance_to_daily_loss_limit,
        s.distance_to_max_drawdown,
        {{ safe_divide('s.distance_to_max_drawdown', 's.starting_balance') }} as relative_distance_to_max_drawdown,
        {{ safe_divide('s.current_equity - s.starting_balance', 's.starting_balance') }} as return_since_start,
        s.days_active as active_trading_days_count,
        s.days_since_first_trade,
        s.days_since_last_trade,
        s.days_since_equity_hwm,
        {{ safe_divide('s.current_equity - s.equity_hwm', 's.equity_hwm') }} as drawdown_from_hwm,
        least(coalesce(s.days_since_first_trade, 0) / 90.0, 1.0) as experience_factor,

        -- the day predicted (D + 1): its calendar and the payout schedule are known at the end of D
        (extract(isodow from s.date + 1)::int - 1) as next_day_of_week,
        (extract(isodow from s.date + 1) >= 6)::int as next_day_is_weekend,
        s.days_to_next_payout,

        -- temporal
        {{ temporal_features('s.date') }}
    from snapshots as s
    left join open_positions as op on op.account_id = s.account_id and op.date = s.date
),

market as (
    select
        date, sentiment_score, news_balance, news_count, volatility_regime, liquidity_state, volatility_regime_level,
        anomaly_count, prob_risk_on, prob_risk_off, prob_vol_spike, max_risk_probability, fed_funds_rate,
        yield_curve_spread, spx_return, dollar_strength, gold_return, btc_return, btc_volatility, spx_volatility,
        days_to_next_event
    from regimes
),

joined as (
    select *
    from state
    left join rolling using (account_id, date)
    left join behaviour using (account_id, date)
    left join market using (date)
),

final as (
    select
        joined.*,
        -- interactions of the account's form with the regime
        pnl_sharpe_7d * (1 - max_risk_probability) as risk_adjusted_sharpe_7d,
        volatility_regime_level * coalesce(crypto_share_30d, 0) as crypto_exposure_in_volatility,
        -- a scheduled release on D + 1, from D's economic calendar
        (days_to_next_event = 1)::int as next_day_event,
        -- money relative to the account's size, so accounts of every size share one scale
        {% for c in relative_money -%}
        {{ safe_divide(c, 'starting_balance') }} as {{ c }}_rel,
        {% endfor -%}
        {{ safe_divide(safe_divide('pnl_sum_30d', 'active_days_30d'), 'starting_balance') }}
            as pnl_per_active_day_30d_rel
    from joined
)

select * from final
