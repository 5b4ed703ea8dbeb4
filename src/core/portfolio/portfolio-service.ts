import type { Lifecycle } from '../lifecycle.js';
import { and, asc, gte, inArray, lte, sum, type SQL } from 'drizzle-orm';
import type { AccountsService } from '../accounts/accounts-service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { fills, portfolioSnapshots } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';
import type { Logger } from '../logger.js';
import type { TradingService } from '../trading/trading-service.js';
import type { Valuation } from './valuation.js';

export interface Holding {
  asset: string;
  amount: Decimal;
  available: Decimal;
  price: Decimal | null;
  value: Decimal | null;
}

export interface ConnectorState {
  account_name: string;
  connector_name: string;
  status: 'ok' | 'error';
  error?: { code: string; message: string };
  holdings: Holding[];
  unrealized_pnl: Decimal;
  /** Sum of valued holdings plus unrealized PnL; unpriced assets are left out and listed. */
  total_value: Decimal;
}

export interface Filter {
  account_names?: string[];
  connector_names?: string[];
}

const ZERO = new Decimal(0);

/**
 * The portfolio across accounts and connectors, valued in one quote currency, with snapshots on a
 * schedule for history and performance. Everything is summed as exact decimals.
 */
export class PortfolioService implements Lifecycle {
  #timer: NodeJS.Timeout | undefined;
  /** The scheduled snapshot still running, if any: stopping waits for it, so it never meets a closed pool. */
  #inFlight: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountsService,
    private readonly trading: TradingService,
    private readonly valuation: Valuation,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** How often every account's value is recorded; null = only when asked (snapshot). */
    private readonly settings: { snapshotEveryMs: number | null } = { snapshotEveryMs: null },
  ) {}

  start(): void {
    if (this.settings.snapshotEveryMs) this.startSnapshots(this.settings.snapshotEveryMs);
  }

  async stop(): Promise<void> {
    this.stopSnapshots();
    await this.#inFlight;
  }

  async state(filter: Filter, quote: string): Promise<ConnectorState[]> {
    const all = await this.accounts.list();
    const selected = all.filter((a) => !filter.account_names?.length || filter.account_names.includes(a.account_name));
    const out: ConnectorState[] = [];
    for (const acct of selected) {
      const connectors = acct.connectors.map((c) => c.connector_name).filter((c) => !filter.connector_names?.length || filter.connector_names.includes(c));
      if (connectors.length === 0) continue;
      const balances = await this.accounts.balances(acct.account_name);
      const positions = await this.trading.positions({ account_name: acct.account_name });
      for (const cb of balances.filter((b) => connectors.includes(b.connector_name))) {
        const holdings: Holding[] = [];
        for (const b of cb.balances) {
          const price = await this.valuation.price(cb.connector_name, b.asset, quote);
          const amount = new Decimal(b.total);
          holdings.push({ asset: b.asset, amount, available: new Decimal(b.available), price, value: price ? amount.times(price) : null });
        }
        const unrealized = positions.filter((p) => p.row.connectorName === cb.connector_name && p.unrealized !== null).reduce((s, p) => s.plus(String(p.unrealized)), ZERO);
        const valued = holdings.reduce((s, h) => (h.value ? s.plus(h.value) : s), ZERO);
        out.push({
          account_name: acct.account_name,
          connector_name: cb.connector_name,
          status: cb.status,
          ...(cb.error ? { error: { code: cb.error.code, message: cb.error.message } } : {}),
          holdings,
          unrealized_pnl: unrealized,
          total_value: valued.plus(unrealized),
        });
      }
    }
    return out;
  }

  /** Stores the current valued state of every account and connector. */
  async snapshot(quote = 'USDT', at = this.clock.date()): Promise<number> {
    const state = await this.state({}, quote);
    const rows = state
      .filter((s) => s.status === 'ok')
      .map((s) => ({
        at,
        accountName: s.account_name,
        connectorName: s.connector_name,
        quote,
        totalValue: s.total_value.toDecimalPlaces(18).toFixed(),
        detail: s.holdings.map((h) => ({ asset: h.asset, amount: h.amount.toFixed(), price: h.price?.toFixed() ?? null, value: h.value?.toDecimalPlaces(18).toFixed() ?? null })),
      }));
    if (rows.length) await this.db.insert(portfolioSnapshots).values(rows);
    return rows.length;
  }

  startSnapshots(intervalMs: number): void {
    if (this.#timer) return;
    const take = () => {
      // One at a time: a slow snapshot is not overtaken by the next tick.
      if (this.#inFlight) return;
      this.#inFlight = this.snapshot()
        .then(
          () => undefined,
          (err) => this.logger.warn('portfolio snapshot failed', { err }),
        )
        .finally(() => {
          this.#inFlight = null;
        });
    };
    take();
    this.#timer = setInterval(take, intervalMs);
    this.#timer.unref();
  }

  stopSnapshots(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Total value per interval bucket: for each account and connector, its last snapshot in the bucket. */
  async history(filter: Filter, intervalMs: number, start: number, end: number, limit: number) {
    const conds: SQL[] = [gte(portfolioSnapshots.at, new Date(start)), lte(portfolioSnapshots.at, new Date(end))];
    if (filter.account_names?.length) conds.push(inArray(portfolioSnapshots.accountName, filter.account_names));
    if (filter.connector_names?.length) conds.push(inArray(portfolioSnapshots.connectorName, filter.connector_names));
    const rows = await this.db.select().from(portfolioSnapshots).where(and(...conds)).orderBy(asc(portfolioSnapshots.at));
    const buckets = new Map<number, Map<string, { value: Decimal; quote: string }>>();
    for (const r of rows) {
      const b = Math.floor(r.at.getTime() / intervalMs) * intervalMs;
      let m = buckets.get(b);
      if (!m) buckets.set(b, (m = new Map()));
      m.set(`${r.accountName}|${r.connectorName}`, { value: new Decimal(r.totalValue), quote: r.quote });
    }
    const points = [...buckets.entries()].sort(([a], [b]) => a - b).map(([t, m]) => ({
      timestamp: t,
      total_value: [...m.values()].reduce((s, v) => s.plus(v.value), ZERO),
      by_account: Object.fromEntries(
        [...m.entries()].reduce((acc, [k, v]) => {
          const a = k.split('|')[0]!;
          acc.set(a, (acc.get(a) ?? ZERO).plus(v.value));
          return acc;
        }, new Map<string, Decimal>()),
      ),
    }));
    return { points: points.slice(-limit), truncated: points.length > limit };
  }

  /** Value change, realized PnL, unrealized PnL and fees over a window ending now. */
  async performance(filter: Filter, since: number, quote: string) {
    const now = await this.state(filter, quote);
    const endValue = now.reduce((s, c) => s.plus(c.total_value), ZERO);
    const unrealized = now.reduce((s, c) => s.plus(c.unrealized_pnl), ZERO);
    const conds: SQL[] = [gte(portfolioSnapshots.at, new Date(since))];
    if (filter.account_names?.length) conds.push(inArray(portfolioSnapshots.accountName, filter.account_names));
    if (filter.connector_names?.length) conds.push(inArray(portfolioSnapshots.connectorName, filter.connector_names));
    const snaps = await this.db.select().from(portfolioSnapshots).where(and(...conds)).orderBy(asc(portfolioSnapshots.at));
    const first = new Map<string, { at: Date; value: Decimal }>();
    for (const s of snaps) {
      const k = `${s.accountName}|${s.connectorName}`;
      if (!first.has(k)) first.set(k, { at: s.at, value: new Decimal(s.totalValue) });
    }
    const startValue = [...first.values()].reduce((s, v) => s.plus(v.value), ZERO);
    // Compare like with like: a connector attached during the window has no start value, and its
    // whole balance is not a gain.
    const endMatched = now.filter((c) => first.has(`${c.account_name}|${c.connector_name}`)).reduce((s, c) => s.plus(c.total_value), ZERO);
    const startAt = [...first.values()].reduce<Date | null>((m, v) => (!m || v.at < m ? v.at : m), null);
    const fillConds: SQL[] = [gte(fills.at, new Date(since))];
    if (filter.account_names?.length) fillConds.push(inArray(fills.accountName, filter.account_names));
    if (filter.connector_names?.length) fillConds.push(inArray(fills.connectorName, filter.connector_names));
    const [agg] = await this.db.select({ realized: sum(fills.realizedPnl), fees: sum(fills.fee) }).from(fills).where(and(...fillConds));
    return {
      start_time: startAt,
      start_value: first.size ? startValue : null,
      end_value: endValue,
      value_change: first.size ? endMatched.minus(startValue) : null,
      value_change_pct: first.size && !startValue.isZero() ? endMatched.minus(startValue).div(startValue).times(100) : null,
      realized_pnl: new Decimal(agg?.realized ?? '0'),
      unrealized_pnl: unrealized,
      fees_paid: new Decimal(agg?.fees ?? '0'),
    };
  }
}
