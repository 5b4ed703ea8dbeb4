import { eq } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { accountPolicies, accounts, type AccountPolicyRow } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';

export type TradingMode = 'disabled' | 'paper' | 'live';
/** token: the caller confirms with a preview token (or the client's person through elicitation); human: another principal approves over REST. */
export type ConfirmationMode = 'token' | 'human';

/** An account's policy with its defaults filled in. Notional values are USDT, as Decimals. */
export interface Policy {
  account_name: string;
  mode: TradingMode;
  /** null = no cap; `order_cap_decided` tells an explicit "none" from never decided. */
  max_order_notional: Decimal | null;
  order_cap_decided: boolean;
  max_daily_notional: Decimal | null;
  max_position_notional: Decimal | null;
  max_leverage: number | null;
  allowed_pairs: string[] | null;
  denied_pairs: string[];
  max_orders_per_minute: number | null;
  duplicate_window_seconds: number | null;
  confirm_above_notional: Decimal | null;
  confirmation: ConfirmationMode;
  updated_by: string | null;
  updated_at: Date | null;
}

/** A change: an omitted field keeps its value, null removes a cap, "none" is the explicit no-cap decision. */
export interface PolicyPatch {
  mode?: TradingMode;
  max_order_notional?: string | 'none' | null;
  max_daily_notional?: string | null;
  max_position_notional?: string | null;
  max_leverage?: number | null;
  allowed_pairs?: string[] | null;
  denied_pairs?: string[];
  max_orders_per_minute?: number | null;
  duplicate_window_seconds?: number | null;
  confirm_above_notional?: string | null;
  confirmation?: ConfirmationMode;
}

export function defaultPolicy(account: string): Policy {
  return {
    account_name: account,
    mode: 'paper',
    max_order_notional: null,
    order_cap_decided: false,
    max_daily_notional: null,
    max_position_notional: null,
    max_leverage: null,
    allowed_pairs: null,
    denied_pairs: [],
    max_orders_per_minute: null,
    duplicate_window_seconds: null,
    confirm_above_notional: null,
    confirmation: 'token',
    updated_by: null,
    updated_at: null,
  };
}

const dec = (v: string | null) => (v === null ? null : new Decimal(v));

export function policyFromRow(r: AccountPolicyRow): Policy {
  return {
    account_name: r.accountName,
    mode: r.mode,
    max_order_notional: dec(r.maxOrderNotional),
    order_cap_decided: r.orderCapDecided,
    max_daily_notional: dec(r.maxDailyNotional),
    max_position_notional: dec(r.maxPositionNotional),
    max_leverage: r.maxLeverage,
    allowed_pairs: r.allowedPairs ?? null,
    denied_pairs: r.deniedPairs,
    max_orders_per_minute: r.maxOrdersPerMinute,
    duplicate_window_seconds: r.duplicateWindowSeconds,
    confirm_above_notional: dec(r.confirmAboveNotional),
    confirmation: r.confirmation,
    updated_by: r.updatedBy,
    updated_at: r.updatedAt,
  };
}

/** Per-account policies in Postgres. Only the admin REST command writes them. */
export class PolicyStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async get(account: string): Promise<Policy> {
    const [row] = await this.db.select().from(accountPolicies).where(eq(accountPolicies.accountName, account));
    return row ? policyFromRow(row) : defaultPolicy(account);
  }

  async update(account: string, patch: PolicyPatch, by: string): Promise<Policy> {
    const [acct] = await this.db.select({ name: accounts.name }).from(accounts).where(eq(accounts.name, account));
    if (!acct) throw new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists them.' });
    const current = await this.get(account);
    const next = applyPatch(current, patch);
    const values = {
      accountName: account,
      mode: next.mode,
      maxOrderNotional: next.max_order_notional?.toFixed() ?? null,
      orderCapDecided: next.order_cap_decided,
      maxDailyNotional: next.max_daily_notional?.toFixed() ?? null,
      maxPositionNotional: next.max_position_notional?.toFixed() ?? null,
      maxLeverage: next.max_leverage,
      allowedPairs: next.allowed_pairs,
      deniedPairs: next.denied_pairs,
      maxOrdersPerMinute: next.max_orders_per_minute,
      duplicateWindowSeconds: next.duplicate_window_seconds,
      confirmAboveNotional: next.confirm_above_notional?.toFixed() ?? null,
      confirmation: next.confirmation,
      updatedBy: by,
      updatedAt: this.clock.date(),
    };
    const [row] = await this.db.insert(accountPolicies).values(values).onConflictDoUpdate({ target: accountPolicies.accountName, set: values }).returning();
    return policyFromRow(row!);
  }
}

/**
 * Live trading needs a per-order cap decided by a person: switching to live must name one (a number or
 * "none") in the same change, and a live account's cap cannot be reset to undecided.
 */
export function applyPatch(p: Policy, patch: PolicyPatch): Policy {
  const next: Policy = { ...p };
  if (patch.mode !== undefined) next.mode = patch.mode;
  if (patch.max_order_notional !== undefined) {
    next.max_order_notional = patch.max_order_notional === null || patch.max_order_notional === 'none' ? null : new Decimal(patch.max_order_notional);
    next.order_cap_decided = patch.max_order_notional !== null;
  }
  if (patch.max_daily_notional !== undefined) next.max_daily_notional = dec(patch.max_daily_notional);
  if (patch.max_position_notional !== undefined) next.max_position_notional = dec(patch.max_position_notional);
  if (patch.max_leverage !== undefined) next.max_leverage = patch.max_leverage;
  if (patch.allowed_pairs !== undefined) next.allowed_pairs = patch.allowed_pairs;
  if (patch.denied_pairs !== undefined) next.denied_pairs = patch.denied_pairs;
  if (patch.max_orders_per_minute !== undefined) next.max_orders_per_minute = patch.max_orders_per_minute;
  if (patch.duplicate_window_seconds !== undefined) next.duplicate_window_seconds = patch.duplicate_window_seconds;
  if (patch.confirm_above_notional !== undefined) next.confirm_above_notional = dec(patch.confirm_above_notional);
  if (patch.confirmation !== undefined) next.confirmation = patch.confirmation;
  if (next.mode === 'live') {
    const switching = p.mode !== 'live';
    if ((switching && patch.max_order_notional === undefined) || !next.order_cap_decided) {
      throw new AppError('VALIDATION_FAILED', 'Invalid input: max_order_notional: live trading needs a per-order notional cap decision: a USDT amount, or "none" for no cap.', {
        hint: 'Send max_order_notional with the change to live, e.g. {"mode":"live","max_order_notional":"500"}; "none" is an explicit choice of no cap.',
        details: { issues: [{ path: 'max_order_notional', message: 'required when switching to live: a number or "none"' }] },
      });
    }
  }
  return next;
}
