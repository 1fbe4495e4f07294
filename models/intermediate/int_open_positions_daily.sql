{{ config(
    unique_key=['account_id', 'date'],
    indexes=[{'columns': ['date', 'account_id'], 'unique': True}],
    distributed_by='account_id'
) }}

-- The positions each account held open at the end of each day (the end-of-day snapshot of open trades).
-- A table of its own, indexed on (date, account_id): the feature store view then reads the rows of the days
-- asked for, where a grouping inside the view aggregated every open trade of every day for one nightly day.

with positions as (
    select * from {{ ref('stg_trades_open') }}
    where {{ batch_input_filter('trade_date') }}
),

final as (
    select
        account_id,
        trade_date as date,
        count(*) as open_positions,
        sum(volume_usd) as open_positions_volume
    from positions
    group by account_id, trade_date
)

select * from final
