-- int_pnl_daily holds the snapshots' net profit and equity for exactly the snapshots' account-days: the
-- rolling and behaviour features read it in place of the snapshots. Returns the account-days that differ.
select coalesce(p.account_id, s.account_id) as account_id, coalesce(p.date, s.date) as date
from {{ ref('int_pnl_daily') }} as p
full join {{ ref('int_account_snapshots_daily') }} as s on s.account_id = p.account_id and s.date = p.date
where p.account_id is null
   or s.account_id is null
   or p.net_profit is distinct from s.net_profit
   or p.current_equity is distinct from s.current_equity
