-- No look-ahead: for a deterministic sample of (account, day D) rows of the feature store, recompute rolling
-- features straight from the snapshots and closed trades truncated at D (date <= D) and return every row
-- whose stored value differs. A feature that read data after D would differ here.
{{ config(severity='error') }}

-- One row in 29 (about 23 000 of 2 000 accounts x a year): a feature that reads ahead does so on every row,
-- so a sparse sample catches it, and each sampled row re-aggregates up to 90 days of history.
with features as (
    select * from {{ ref('feature_store_account_daily') }}
    where abs(hashtext(account_id || ':' || date::text)) % 29 = 0
),

snapshots as (select account_id, date, net_profit, current_equity from {{ ref('int_account_snapshots_daily') }}),
trades as (select account_id, trade_date, has_stop_loss from {{ ref('stg_trades_closed') }}),

recomputed as (
    select
        f.account_id,
        f.date,
        pnl.pnl_sum_7d,
        pnl.pnl_avg_30d,
        pnl.pnl_max_90d,
        pnl.pnl_days_30d,
        pnl.pnl_win_rate_30d,
        pnl.equity_peak_30d,
        tr.trades_count_5d,
        tr.stop_loss_usage_rate_5d
    from features as f
    left join lateral (
        select
            sum(s.net_profit) filter (where s.date > f.date - 7) as pnl_sum_7d,
            avg(s.net_profit) filter (where s.date > f.date - 30) as pnl_avg_30d,
            max(s.net_profit) as pnl_max_90d,
            count(s.net_profit) filter (where s.date > f.date - 30) as pnl_days_30d,
            {{ safe_divide(
                'count(*) filter (where s.date > f.date - 30 and s.net_profit > 0)',
                'count(s.net_profit) filter (where s.date > f.date - 30)'
            ) }} as pnl_win_rate_30d,
            max(s.current_equity) filter (where s.date > f.date - 30) as equity_peak_30d
        from snapshots as s
        where s.account_id = f.account_id and s.date <= f.date and s.date > f.date - 90
    ) as pnl on true
    left join lateral (
        select
            count(*) as trades_count_5d,
            {{ safe_divide('count(*) filter (where t.has_stop_loss)', 'count(*)') }} as stop_loss_usage_rate_5d
        from trades as t
        where t.account_id = f.account_id and t.trade_date <= f.date and t.trade_date > f.date - 5
    ) as tr on true
),

{% set compared = [
    'pnl_sum_7d', 'pnl_avg_30d', 'pnl_max_90d', 'pnl_days_30d', 'pnl_win_rate_30d',
    'trades_count_5d', 'stop_loss_usage_rate_5d'
] %}
final as (
    select f.account_id, f.date, '{{ compared | join(",") }}' as columns_compared
    from features as f
    join recomputed as r using (account_id, date)
    where false
    {% for c in compared -%}
      or (f.{{ c }} is null) <> (r.{{ c }} is null)
      or abs(f.{{ c }} - r.{{ c }}) > 1e-9 * greatest(1, abs(r.{{ c }}))
    {% endfor -%}
      or abs(f.drawdown_from_30d_peak - (f.current_equity - r.equity_peak_30d) / nullif(r.equity_peak_30d, 0)) > 1e-9
)

select * from final
