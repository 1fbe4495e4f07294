{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['account_id', 'date'], 'unique': True}, {'columns': ['date']}],
    distributed_by='account_id'
) }}

-- One row per account per day with a daily-metrics row: plan rules, money, distances to the limits and
-- the account's running state. Running totals (days active, equity high-water mark) continue from the
-- table's own last row before the batch, so one new day costs one day of work.

with daily as (
    select * from {{ ref('stg_metrics_daily') }}
    where {{ batch_input_filter('date') }}
),

plans as (select * from {{ ref('stg_plans') }}),

{% if is_incremental() and target.distributed %}
-- each batch account's last row before the batch; on Citus a per-account distinct on runs on every worker
-- (it cannot push down a lateral subquery with a limit that reads a CTE)
prior as (
    select distinct on (account_id)
        account_id, days_active, date - days_since_last_trade as last_trade_date, equity_hwm,
        date - days_since_equity_hwm as equity_hwm_date
    from {{ this }}
    where date < date '{{ batch_start }}' and account_id in (select account_id from daily)
    order by account_id, date desc
),
{% elif is_incremental() %}
-- each batch account's last row before the batch, one index probe per account on (account_id, date): a scan
-- for the latest row per account would read the whole history every night
prior as (
    select last_row.*
    from (select distinct account_id from daily) as accounts
    cross join lateral (
        select
            account_id, days_active, date - days_since_last_trade as last_trade_date, equity_hwm,
            date - days_since_equity_hwm as equity_hwm_date
        from {{ this }}
        where account_id = accounts.account_id and date < date '{{ batch_start }}'
        order by date desc
        limit 1
    ) as last_row
),
{% else %}
prior as (
    select null::text as account_id, 0::bigint as days_active, null::date as last_trade_date,
           null::double precision as equity_hwm, null::date as equity_hwm_date
    where false
),
{% endif %}

running as (
    select
        daily.*,
        coalesce(prior.days_active, 0)
            + count(*) filter (where daily.num_trades > 0) over w as days_active,
        coalesce(max(daily.date) filter (where daily.num_trades > 0) over w, prior.last_trade_date) as last_trade_date,
        greatest(prior.equity_hwm, max(daily.current_equity) over w) as equity_hwm,
        prior.equity_hwm_date as prior_hwm_date,
        greatest(prior.equity_hwm, max(daily.current_equity) over (
            partition by daily.account_id order by daily.date rows between unbounded preceding and 1 preceding
        )) as hwm_before
    from daily
    left join prior using (account_id)
    window w as (partition by daily.account_id order by daily.date rows between unbounded preceding and current row)
),

with_hwm_date as (
    select
        running.*,
        coalesce(
            max(case when current_equity >= equity_hwm then date end)
                over (partition by account_id order by date rows between unbounded preceding and current row),
            prior_hwm_date
        ) as equity_hwm_date
    from running
),

final as (
    select
        -- ids
        s.account_id,
        s.date,
        s.login,
        s.trader_id,
        s.plan_id,

        -- codes
        s.phase,
        s.status,
        plans.plan_type,

        -- plan rules
        coalesce(plans.starting_balance, s.starting_balance) as starting_balance,
        plans.profit_target_pct,
        plans.max_daily_drawdown_pct,
        plans.max_drawdown_pct,
        plans.max_leverage,
        plans.is_drawdown_relative,
        plans.liquidate_friday,
        plans.inactivity_period,
        plans.daily_drawdown_by_balance_equity,
        plans.enable_consistency,
        plans.profit_share_pct,

        -- money
        s.prior_days_balance,
        s.current_balance,
        s.current_equity,
        s.net_profit,
        s.gross_profit,
        s.gross_loss,
        -- in whole cents, as the API reports both: a double difference would carry float noise into the features
        round((s.current_equity - s.current_balance)::numeric, 2)::double precision as open_pnl,
        s.todays_payouts,
        s.days_to_next_payout,

        -- distances to the plan's limits (positive = room left)
        case when plans.profit_target_pct > 0
             then s.starting_balance * (1 + plans.profit_target_pct / 100) - s.current_equity
        end as distance_to_profit_target,
        -- the daily loss floor starts from the prior day's balance, or from the larger of its balance and
        -- equity when the plan measures the daily drawdown on both
        s.current_equity - (
            case when plans.daily_drawdown_by_balance_equity then greatest(s.prior_days_balance, s.prior_days_equity)
                 else s.prior_days_balance end
            - s.starting_balance * plans.max_daily_drawdown_pct / 100
        ) as distance_to_daily_loss_limit,
        s.current_equity - (
            case when plans.is_drawdown_relative
                 then greatest(s.starting_balance, coalesce(s.hwm_before, s.starting_balance))
                 else s.starting_balance end
            - s.starting_balance * plans.max_drawdown_pct / 100
        ) as distance_to_max_drawdown,

        -- activity and running state
        s.num_trades,
        s.num_open_positions,
        s.open_positions_value_to_equity,
        s.account_margin,
        s.total_lots,
        s.total_volume,
        s.days_active,
        s.date - s.last_trade_date as days_since_last_trade,
        s.days_since_first_trade,
        s.equity_hwm,
        s.date - s.equity_hwm_date as days_since_equity_hwm
    from with_hwm_date as s
    left join plans on plans.plan_id = s.plan_id
    where {{ batch_output_filter('s.date') }}
)

select * from final
