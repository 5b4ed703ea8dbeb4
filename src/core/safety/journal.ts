import { and, count, desc, eq, gt, inArray, notInArray, sum } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditEvents } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';

/**
 * Outcomes of an order that may have reached the market: done, still in flight (or interrupted by a
 * crash), or unknown after a timeout. Refusals and rejections are not spending; these are.
 */
export const SPENT_OUTCOMES = ['PENDING', 'OK', 'TIMEOUT', 'UPSTREAM_UNAVAILABLE', 'INTERNAL'];

/** Outcomes of guard refusals, listed as "recent denials". */
export const DENIAL_OUTCOMES = [
  'POLICY_DENIED',
  'RISK_LIMIT_EXCEEDED',
  'KILL_SWITCH_ACTIVE',
  'CONFIRMATION_REQUIRED',
  'CONFIRMATION_DECLINED',
  'CONFIRMATION_EXPIRED',
  'CONFIRMATION_REUSED',
  'CONFIRMATION_MISMATCH',
  'RATE_LIMITED',
  'DUPLICATE_ORDER',
];

const DAY_MS = 24 * 3600_000;

/**
 * Reads the limits' state from the audit journal rather than from memory, so a restart neither resets
 * the 24 h budget nor the rate and duplicate windows.
 */
export class Journal {
  constructor(private readonly db: Db) {}

  /** USDT notional of risk-increasing orders in the 24 h before `now`. */
  async spent24h(account: string, now: number): Promise<Decimal> {
    const [row] = await this.db
      .select({ total: sum(auditEvents.notional) })
      .from(auditEvents)
      .where(and(eq(auditEvents.accountName, account), eq(auditEvents.countsToBudget, true), gt(auditEvents.at, new Date(now - DAY_MS)), inArray(auditEvents.outcome, SPENT_OUTCOMES)));
    return new Decimal(row?.total ?? 0);
  }

  /** Risk-increasing orders that passed the guards in the last minute. */
  async ordersLastMinute(account: string, now: number): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.accountName, account), eq(auditEvents.countsToBudget, true), gt(auditEvents.at, new Date(now - 60_000)), notInArray(auditEvents.outcome, DENIAL_OUTCOMES)));
    return row?.n ?? 0;
  }

  /** When the same order (same fingerprint) last went through within the window, or null. */
  async lastIdentical(account: string, fingerprint: string, sinceMs: number): Promise<Date | null> {
    const [row] = await this.db
      .select({ at: auditEvents.at })
      .from(auditEvents)
      .where(and(eq(auditEvents.accountName, account), eq(auditEvents.fingerprint, fingerprint), eq(auditEvents.countsToBudget, true), gt(auditEvents.at, new Date(sinceMs)), inArray(auditEvents.outcome, SPENT_OUTCOMES)))
      .orderBy(desc(auditEvents.at))
      .limit(1);
    return row?.at ?? null;
  }

  async recentDenials(account: string | undefined, limit: number) {
    const conds = [inArray(auditEvents.outcome, DENIAL_OUTCOMES)];
    if (account) conds.push(eq(auditEvents.accountName, account));
    return this.db
      .select({ id: auditEvents.id, at: auditEvents.at, principal: auditEvents.principal, channel: auditEvents.channel, command: auditEvents.command, account_name: auditEvents.accountName, outcome: auditEvents.outcome, detail: auditEvents.detail })
      .from(auditEvents)
      .where(and(...conds))
      .orderBy(desc(auditEvents.id))
      .limit(limit);
  }
}

