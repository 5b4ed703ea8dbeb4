import type { AccountPolicyRow } from '../db/schema/index.js';
import { statement, type Queryable } from '../db/sql-runner.js';
import { Decimal } from '../decimal.js';
import { DENIAL_OUTCOMES, SPENT_OUTCOMES } from './journal.js';
import { GLOBAL_SCOPE, killSwitchView, type KillSwitchState } from './kill-switches.js';
import { defaultPolicy, policyFromRow, type Policy } from './policy-store.js';

/**
 * Everything the guards read about an account for one order, in one statement inside the order's
 * transaction (after the account lock, so every earlier order's journal row is visible): the policy,
 * the kill switches that cover it, and the journal's 24 h spend, last-minute count and last identical
 * order. A count is computed only when the policy has the limit it feeds.
 */
const READ_GUARD_STATE = statement(
  'td_read_guard_state',
  `select
     p.account_name as "accountName", p.mode, p.max_order_notional::text as "maxOrderNotional", p.order_cap_decided as "orderCapDecided",
     p.max_daily_notional::text as "maxDailyNotional", p.max_position_notional::text as "maxPositionNotional", p.max_leverage as "maxLeverage",
     p.allowed_pairs as "allowedPairs", p.denied_pairs as "deniedPairs", p.max_orders_per_minute as "maxOrdersPerMinute",
     p.duplicate_window_seconds as "duplicateWindowSeconds", p.confirm_above_notional::text as "confirmAboveNotional",
     p.confirmation, p.updated_by as "updatedBy", p.updated_at as "updatedAt",
     (select coalesce(json_agg(json_build_object('scope', k.scope, 'reason', k.reason, 'set_by', k.set_by, 'set_at', k.set_at)), '[]'::json)
        from kill_switches k where k.scope in ($2, x.account)) as switches,
     case when $3 and p.max_daily_notional is not null then
       (select coalesce(sum(a.notional), 0)::text from audit_events a
         where a.account_name = x.account and a.counts_to_budget and a.at > $4 and a.outcome = any($5::text[])) end as spent24h,
     case when $3 and p.max_orders_per_minute is not null then
       (select count(*)::int from audit_events a
         where a.account_name = x.account and a.counts_to_budget and a.at > $6 and a.outcome <> all($7::text[])) end as last_minute,
     case when $3 and p.duplicate_window_seconds is not null and $8::text is not null then
       (select max(a.at) from audit_events a
         where a.account_name = x.account and a.fingerprint = $8 and a.counts_to_budget
           and a.at > $9::timestamptz - make_interval(secs => p.duplicate_window_seconds) and a.outcome = any($5::text[])) end as last_identical
   from (select $1::text as account) x left join account_policies p on p.account_name = x.account`,
);

interface GuardStateRow extends Omit<AccountPolicyRow, 'accountName'> {
  accountName: string | null;
  switches: Array<{ scope: string; reason: string; set_by: string; set_at: string }>;
  spent24h: string | null;
  last_minute: number | null;
  last_identical: Date | string | null;
}

export interface GuardState {
  policy: Policy;
  killSwitches: KillSwitchState[];
  spent24h: Decimal;
  ordersLastMinute: number;
  lastIdentical: Date | null;
}

const DAY_MS = 24 * 3600_000;

/** `counting`: the order is risk-increasing, so the journal's counts apply to it. */
export async function readGuardState(q: Queryable, account: string, counting: boolean, fingerprint: string | null, now: number): Promise<GuardState> {
  const [r] = await q.query<GuardStateRow>(READ_GUARD_STATE, [account, GLOBAL_SCOPE, counting, new Date(now - DAY_MS), SPENT_OUTCOMES, new Date(now - 60_000), DENIAL_OUTCOMES, fingerprint, new Date(now)]);
  const row = r!;
  const policy = row.accountName ? policyFromRow(row as AccountPolicyRow) : defaultPolicy(account);
  const killSwitches = row.switches
    .map((k) => killSwitchView({ scope: k.scope, reason: k.reason, setBy: k.set_by, setAt: new Date(k.set_at) }))
    .sort((a, b) => Number(b.scope === 'global') - Number(a.scope === 'global'));
  return {
    policy,
    killSwitches,
    spent24h: new Decimal(row.spent24h ?? 0),
    ordersLastMinute: row.last_minute ?? 0,
    lastIdentical: row.last_identical === null ? null : new Date(row.last_identical),
  };
}
