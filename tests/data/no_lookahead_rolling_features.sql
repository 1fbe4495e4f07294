-- No look-ahead: for a deterministic sample of (account, day D) rows of the feature store, recompute rolling
-- features straight from the snapshots and closed trades truncated at D (date <= D) and return every row
-- whose stored value differs. A feature that read data after D would differ here.
{{ config(severity='error') }}

-- One row in 29 (about 23 000 of 2 000 accounts x a year): a feature that reads ahead does so on every row,
-- so a sparse sample catches it, and each sampled row re-aggregates up to 90 days of history.
-- Written so that a Citus cluster runs it on the workers: the feature store is read once (a CTE read twice is
-- materialised on the coordinator), the snapshots join it by account (co-located), and the closed trades, which
-- are not distributed by account, reach it already counted per account and day.
with trades_daily as (
    select
        account_id,
        trade_date,
        count(*) as trades,
        count(*) filter (where has_stop_loss) as with_stop_loss
    from {{ ref('stg_trades_closed') }}
    group by account_id, trade_date
),

{# each compared feature and the lateral (r: snapshots, tr: trades) that recomputes it #}
{% set compared = [
    ['pnl_sum_7d', 'r'], ['pnl_avg_30d', 'r'], ['pnl_max_90d', 'r'], ['pnl_days_30d', 'r'],
    ['pnl_win_rate_30d', 'r'], ['trades_count_5d', 'tr'], ['stop_loss_usage_rate_5d', 'tr']
] %}
{% set names = [] %}
{% for c, _ in compared %}{% do names.append(c) %}{% endfor %}
final as (
    select f.account_id, f.date, '{{ names | join(",") }}' as columns_compared
    from {{ ref('feature_store_account_daily') }} as f
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
        from {{ ref('int_account_snapshots_daily') }} as s
        where s.account_id = f.account_id and s.date <= f.date and s.date > f.date - 90
    ) as r on true
    left join lateral (
        select
            coalesce(sum(t.trades), 0) as trades_count_5d,
            {{ safe_divide('sum(t.with_stop_loss)', 'sum(t.trades)') }} as stop_loss_usage_rate_5d
        from trades_daily as t
        where t.account_id = f.account_id and t.trade_date <= f.date and t.trade_date > f.date - 5
    ) as tr on true
    where abs(hashtext(f.account_id || ':' || f.date::text)) % 29 = 0
      and (false
    {% for c, lateral in compared -%}
      {%- set rc = lateral ~ '.' ~ c %}
      or (f.{{ c }} is null) <> ({{ rc }} is null)
      or abs(f.{{ c }} - {{ rc }}) > 1e-9 * greatest(1, abs({{ rc }}))
    {% endfor -%}
      or abs(f.drawdown_from_30d_peak - (f.current_equity - r.equity_peak_30d) / nullif(r.equity_peak_30d, 0)) > 1e-9)
)

select * from final
