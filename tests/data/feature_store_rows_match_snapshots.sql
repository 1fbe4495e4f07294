-- The feature store has exactly one row per snapshot (account, day) and no other rows: every (account_id,
-- date) of the features resolves to a snapshot, and every snapshot got its features. (Duplicates are the
-- unique tests' job.) One full join on the key, which both tables index, where two EXCEPTs sort both twice.
with features as (select account_id, date from {{ ref('feature_store_account_daily') }}),
snapshots as (select account_id, date from {{ ref('int_account_snapshots_daily') }}),

final as (
    select
        case
            when snapshots.account_id is null then 'feature row without a snapshot'
            else 'snapshot without a feature row'
        end as problem,
        coalesce(features.account_id, snapshots.account_id) as account_id,
        coalesce(features.date, snapshots.date) as date
    from features
    full join snapshots on snapshots.account_id = features.account_id and snapshots.date = features.date
    where features.account_id is null or snapshots.account_id is null
)

select * from final
