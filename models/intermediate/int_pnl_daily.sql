{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- Each account's result of each day with a daily-metrics row (the snapshots' account-days): net profit and
-- end-of-day equity, four columns a row. The trailing windows read 90 days of these for every account: read
-- from the snapshots (350 bytes a row) a nightly day touched 9 000 pages, and it waited for the snapshots.
-- Built from the same staging rows as the snapshots (tests/data/daily_pnl_matches_snapshots.sql).

with daily as (
    select account_id, date, net_profit, current_equity
    from {{ ref('stg_metrics_daily') }}
    where {{ batch_input_filter('date') }}
)

select * from daily
