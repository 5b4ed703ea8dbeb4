import { and, eq } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Principal } from '../principal.js';
import type { TradeIntent } from '../trade-intent.js';
import type { Database, Db } from '../db/client.js';
import { accounts, positions } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { Logger } from '../logger.js';
import type { AccountsService } from '../accounts/accounts-service.js';
import type { Valuation } from '../portfolio/valuation.js';
import type { AccountLocks } from '../trading/account-locks.js';
import type { TradingService } from '../trading/trading-service.js';
import { Approvals } from './approvals.js';
import { evaluate, fingerprintOf, needsConfirmation, type Check } from './checks.js';
import { ConfirmationTokens, orderBinding } from './confirmations.js';
import { Journal } from './journal.js';
import { KillSwitches, type KillSwitchState } from './kill-switches.js';
import { executableIntent, valueOrder, venueOf, type MarketVenue, type OrderValue } from './order-value.js';
import { PolicyStore, type Policy } from './policy-store.js';

export interface Assessment {
  policy: Policy;
  value: OrderValue | null;
  checks: Check[];
  spent24h: Decimal;
  /** The order's fingerprint for the duplicate window, with its effective leverage filled in. */
  fingerprint: string | null;
  /** The order as it will be executed (amount and price quantised): what the fingerprint and a confirmation token bind. */
  intent: TradeIntent;
  confirmation_required: boolean;
}

/**
 * The guardrails' state and the questions asked of it: policies, kill switches, the journal's counts,
 * confirmation tokens. The RiskGuard enforces; previews and the status command read through here.
 */
export class Safety {
  readonly db: Db;
  readonly policies: PolicyStore;
  readonly killSwitches: KillSwitches;
  readonly journal: Journal;
  readonly tokens: ConfirmationTokens;
  readonly locks: AccountLocks;
  readonly approvals: Approvals;

  constructor(
    database: Database,
    readonly connectors: Connectors,
    private readonly accountsService: AccountsService,
    private readonly trading: TradingService,
    readonly valuation: Valuation,
    private readonly logger: Logger,
    private readonly clock: Clock,
    locks: AccountLocks,
  ) {
    this.db = database.db;
    this.locks = locks;
    this.policies = new PolicyStore(this.db, clock);
    this.killSwitches = new KillSwitches(this.db, clock);
    this.journal = new Journal(this.db);
    this.tokens = new ConfirmationTokens(clock);
    this.approvals = new Approvals(this.db, clock);
  }

  /**
   * Every check for this intent, evaluated now, without changing anything. `at` is the order's market
   * and book when the caller already read them (a preview shares one plan with the engine's check).
   */
  async assess(sent: TradeIntent, principal: Principal, at?: MarketVenue, automated = false): Promise<Assessment> {
    const now = this.clock.now();
    const info = await this.connectors.info(sent.connector);
    const venue = at ?? (await this.#venue(sent));
    const t0 = venue ? executableIntent(venue.market, sent) : sent;
    const [policy, ks] = await Promise.all([this.policies.get(t0.account), this.killSwitches.activeFor(t0.account)]);
    const t: TradeIntent = info.market_type === 'perpetual' && t0.kind === 'order' && !t0.reducing ? { ...t0, leverage: await this.#effectiveLeverage(t0) } : t0;
    let value: OrderValue | null = null;
    let valueError: string | undefined;
    if (t.kind === 'order' && !t.reducing) {
      try {
        value = await valueOrder(this.connectors, this.valuation, t, venue ?? undefined);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'NOT_FOUND') throw err;
        valueError = err.message;
      }
    }
    const counting = t.kind === 'order' && !t.reducing;
    const fingerprint = t.kind === 'order' ? fingerprintOf(t) : null;
    const [spent24h, ordersLastMinute, lastIdentical, position] = await Promise.all([
      counting && policy.max_daily_notional !== null ? this.journal.spent24h(t.account, now) : new Decimal(0),
      counting && policy.max_orders_per_minute !== null ? this.journal.ordersLastMinute(t.account, now) : 0,
      counting && fingerprint && !automated && policy.duplicate_window_seconds !== null ? this.journal.lastIdentical(t.account, fingerprint, now - policy.duplicate_window_seconds * 1000) : null,
      counting && policy.max_position_notional !== null && value ? this.#positionOf(t, value) : null,
    ]);
    const checks = evaluate(t, { info, policy, killSwitches: ks, value, valueError, spent24h, ordersLastMinute, lastIdentical, positionBefore: position?.held ?? null, restingSameSide: position?.resting ?? new Decimal(0), now });
    return { policy, value, checks, spent24h, fingerprint, intent: t0, confirmation_required: needsConfirmation(t, policy, value, principal.role) };
  }

  /** The order as the engine will execute it (quantised to its market's rules); as sent when the market cannot be read. */
  async executable(t: TradeIntent): Promise<TradeIntent> {
    const venue = await this.#venue(t);
    return venue ? executableIntent(venue.market, t) : t;
  }

  /** The order's market, or null when it cannot be read now (the valuation then reports why). */
  async #venue(t: TradeIntent): Promise<MarketVenue | null> {
    if (t.kind !== 'order') return null;
    try {
      return await venueOf(this.connectors, await this.connectors.info(t.connector), t.pair);
    } catch (err) {
      if (err instanceof AppError && err.code !== 'NOT_FOUND') return null;
      throw err;
    }
  }

  /** A preview token for this exact order (as the engine will execute it: pass `Assessment.intent`), for this principal. */
  issueToken(t: TradeIntent, principal: Principal) {
    return this.tokens.issue(orderBinding(principal.name, t));
  }

  /**
   * The leverage an order would trade at: an open position's own (the engine adds to a position at the
   * leverage it was opened with), else the order's, else the pair's setting.
   */
  async #effectiveLeverage(t: TradeIntent): Promise<number> {
    const [p] = await this.db
      .select({ amount: positions.amount, leverage: positions.leverage })
      .from(positions)
      .where(and(eq(positions.accountName, t.account), eq(positions.connectorName, t.connector), eq(positions.tradingPair, t.pair)));
    if (p && !new Decimal(p.amount).isZero()) return p.leverage;
    return t.leverage ?? this.trading.leverageFor(t.account, t.connector, t.pair);
  }

  /**
   * What the position holds now (signed base amount: the perpetual position, or the spot base balance),
   * and what resting orders on the same side will add to it when they fill.
   */
  async #positionOf(t: TradeIntent, v: OrderValue): Promise<{ held: Decimal; resting: Decimal }> {
    const resting = await this.trading.restingSameSide(t.account, t.connector, t.pair, t.side ?? 'buy');
    if (v.market.market_type === 'perpetual') {
      const [p] = await this.db
        .select({ amount: positions.amount })
        .from(positions)
        .where(and(eq(positions.accountName, t.account), eq(positions.connectorName, t.connector), eq(positions.tradingPair, t.pair)));
      return { held: new Decimal(p?.amount ?? 0), resting };
    }
    const [bal] = await this.accountsService.balances(t.account, t.connector);
    if (!bal || bal.status !== 'ok') throw new AppError('UPSTREAM_UNAVAILABLE', `The ${t.connector} balances of ${t.account} cannot be read, so the position cap cannot be checked.`, { hint: 'Retry shortly.' });
    return { held: new Decimal(bal.balances.find((b) => b.asset === v.market.base)?.total ?? 0), resting };
  }

  async status(account: string | undefined) {
    const now = this.clock.now();
    const names = account ? [account] : (await this.db.select({ name: accounts.name }).from(accounts).orderBy(accounts.name)).map((a) => a.name);
    if (account) {
      const [row] = await this.db.select({ name: accounts.name }).from(accounts).where(eq(accounts.name, account));
      if (!row) throw new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists them.' });
    }
    const switches = await this.killSwitches.list();
    const global = switches.find((s) => s.scope === 'global') ?? null;
    const perAccount = await Promise.all(
      names.map(async (name) => {
        const [policy, spent, lastMinute] = await Promise.all([this.policies.get(name), this.journal.spent24h(name, now), this.journal.ordersLastMinute(name, now)]);
        return {
          policy,
          spent24h: spent,
          remaining24h: policy.max_daily_notional ? Decimal.max(0, policy.max_daily_notional.minus(spent)) : null,
          ordersLastMinute: lastMinute,
          killSwitch: switches.find((s) => s.scope === 'account' && s.account_name === name) ?? null,
        };
      }),
    );
    const denials = await this.journal.recentDenials(account, 10);
    return { global, accounts: perAccount, denials };
  }

  /**
   * Turns a kill switch on. With `cancelOpenOrders`, the open orders it covers are canceled too; a
   * cancel that fails is reported, not retried silently, and never stops the switch from being set.
   */
  async setKillSwitch(account: string | null, reason: string, by: string, cancelOpenOrders: boolean) {
    if (account) {
      const [row] = await this.db.select({ name: accounts.name }).from(accounts).where(eq(accounts.name, account));
      if (!row) throw new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists them.' });
    }
    const { state, already_active } = await this.killSwitches.set(account, reason, by);
    this.logger.warn('kill switch set', { scope: state.scope, account_name: state.account_name, by, reason });
    const canceled: string[] = [];
    const failed: Array<{ order_id: string; code: string; message: string }> = [];
    if (cancelOpenOrders) {
      for (const o of await this.trading.openOrderIds(account)) {
        try {
          await this.trading.cancel(o.account, o.id);
          canceled.push(o.id);
        } catch (err) {
          const e = err instanceof AppError ? err : new AppError('INTERNAL', 'cancel failed');
          failed.push({ order_id: o.id, code: e.code, message: e.message });
        }
      }
    }
    return { state, already_active, canceled, failed };
  }

  async clearKillSwitch(account: string | null, by: string): Promise<KillSwitchState | null> {
    const cleared = await this.killSwitches.clear(account);
    if (cleared) this.logger.warn('kill switch cleared', { scope: cleared.scope, account_name: cleared.account_name, by });
    return cleared;
  }
}
