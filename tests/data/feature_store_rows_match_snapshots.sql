-- The feature store has exactly one row per snapshot (account, day) and no other rows: every (account_id,
-- date) of the features resolves to a snapshot, and every snapshot got its features.
with features as (select account_id, date from {{ ref('feature_store_account_daily') }}),
snapshots as (select account_id, date from {{ ref('stg_accounts_daily_snapshots') }}),

final as (
    select 'feature row without a snapshot' as problem, * from (select * from features except select * from snapshots) as a
    union all
    select 'snapshot without a feature row', * from (select * from snapshots except select * from features) as b
)

select * from final
