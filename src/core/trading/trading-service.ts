import { and, desc, eq, inArray, isNotNull, isNull, lt, ne, or, type SQL } from 'drizzle-orm';
import type { AuditEvent } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Lifecycle } from '../lifecycle.js';
import { AppError } from '../errors.js';
import type { Database, Db } from '../db/client.js';
import type { Queryable } from '../db/sql-runner.js';
import { accountConnectors, accounts, fills, leverageSettings, orders, positions, type OrderRow } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { Logger } from '../logger.js';
import type { AccountsService } from '../accounts/accounts-service.js';
import type { AccountLocks } from './account-locks.js';
import type { FillGuard } from './fill-guard.js';
import { KeyedMutex } from './keyed-mutex.js';
import { LiveOrders } from './live-orders.js';
import { applyRules } from './matching/quantize.js';
import { unrealizedPnl } from './matching/position-math.js';
import { BOOK_DEPTH, invalid, orderFields, planPaperOrder, requestHash, type OrderPlan, type PlaceOrder } from './order-plan.js';
import { readLedger, type Ledger } from './paper/ledger-state.js';
import { paperRefusal, placePaperOrder, type PlaceResult } from './paper/paper-order.js';
import type { OrderSession } from './paper/order-session.js';
import { PaperEngine, type NewOrderRow } from './paper-engine.js';
import { midOf, paperVenue } from './venue.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';

/** What an order id may hold, as a cursor's key: ours are `ord_` and hex. */
export const ORDER_ID_RE = /^[A-Za-z0-9_-]{1,80}$/;

export type { PlaceOrder, PlaceResult };

/**
 * Orders, fills and positions: the one owner of the `orders` table (other domains ask here). A paper
 * order is planned before the account lock and placed in one transaction after it (paper/); a live
 * order is stored as `pending_submit` before it is sent and updated after. A retry with the same
 * client_order_id returns the first order; one account's orders are handled one at a time so balance
 * checks cannot race.
 */
export class TradingService implements Lifecycle {
  readonly engine: PaperEngine;
  readonly live: LiveOrders;
  readonly #locks = new KeyedMutex();
  #matcher: NodeJS.Timeout | undefined;
  #matching = false;
  #matchFailures = 0;
  #lastLiveSync = 0;

  private readonly db: Db;

  constructor(
    private readonly database: Database,
    private readonly connectors: Connectors,
    accounts: AccountsService,
    private readonly logger: Logger,
    private readonly clock: Clock,
    /** The per-account lock every order of an account takes, shared with the guards. */
    readonly locks: AccountLocks,
    /** Re-checks the account's limits when a resting order fills (paper) or is seen resting (live). */
    fillGuard?: FillGuard,
    /** How often resting paper orders are matched against the book; null = only when asked (matchOnce). */
    private readonly settings: { matchEveryMs: number | null } = { matchEveryMs: null },
  ) {
    this.db = database.db;
    this.engine = new PaperEngine(this.db, clock, fillGuard);
    this.live = new LiveOrders(this.db, connectors, accounts, logger, clock, fillGuard);
  }

  /** What a paper order needs before the account lock; null for a live exchange's order. */
  plan(req: PlaceOrder): Promise<OrderPlan | null> {
    return planPaperOrder(this.connectors, req);
  }

  /** The ledger an order meets, read in the caller's transaction after the account lock. */
  readLedger(q: Queryable, plan: OrderPlan): Promise<Ledger> {
    const r = plan.req;
    return readLedger(q, r.account_name, r.connector_name, r.client_order_id ?? null, r.trading_pair, r.side);
  }

  /**
   * Places a planned paper order in the guard's transaction (the account lock is held, the ledger read).
   * `journal`, when given, is the call's journal row for an outcome: it is written with the order.
   */
  placeInSession(s: OrderSession, journal?: (outcome: string) => AuditEvent): Promise<PlaceResult> {
    return placePaperOrder(s.q, s.plan, s.ledger, { now: this.clock.date(), marks: (pairs) => this.#marks(s.plan, pairs), journal });
  }

  /** Marks for margin: the order's own pair from the plan's book (one snapshot per order), the others read now. */
  async #marks(plan: OrderPlan, pairs: string[]): Promise<Map<string, Decimal>> {
    const { connector_name: connector, trading_pair: own } = plan.req;
    return new Map(await Promise.all(pairs.map(async (p) => [p, p === own ? await midOf(plan.book) : await this.#mark(connector, p)] as const)));
  }

  /**
   * Places an order without the guards (the guard's own path is placeInSession): a paper order in one
   * transaction under the account lock, a live one through its exchange.
   */
  async place(req: PlaceOrder): Promise<PlaceResult> {
    const plan = await this.plan(req);
    if (plan) return this.locks.transaction(req.account_name, async (q) => this.placeInSession({ q, plan, ledger: await this.readLedger(q, plan) }));
    return this.#locks.run(req.account_name, async () => {
      const hash = requestHash(req);
      if (req.client_order_id) {
        const [existing] = await this.db.select().from(orders).where(and(eq(orders.accountName, req.account_name), eq(orders.clientOrderId, req.client_order_id)));
        if (existing) {
          if (existing.requestHash !== hash) {
            throw new AppError('CONFLICT', `client_order_id ${req.client_order_id} was already used for a different order (${existing.id}).`, {
              hint: 'Use a new client_order_id for a new order; reuse one only to retry the same order.',
              details: { order_id: existing.id },
            });
          }
          return this.#withFills(await this.#settleInterrupted(existing), true, null);
        }
      }
      await this.#validate(req);
      return this.#placeLive(req, hash);
    });
  }

  async #withFills(order: OrderRow, replayed: boolean, bookSource: string | null): Promise<PlaceResult> {
    const f = await this.fills({ order_id: order.id, limit: 1000 });
    return { order, fills: f.data.reverse(), replayed, book_source: bookSource };
  }

  /**
   * Every check placing this order would meet after the guards, changing nothing: the connector is
   * attached, the fields fit the connector and the market's rules, and (paper) the engine accepts it
   * against the current book, funds and position, or (live) the exchange balances cover it. Returns the
   * refusal placing would get, or null. Live perpetual margin is the exchange's to judge and is not
   * checked here. `planned` is the order's plan when the caller made it (undefined: made here).
   */
  async check(req: PlaceOrder, planned?: OrderPlan | null): Promise<AppError | null> {
    try {
      const plan = planned === undefined ? await this.plan(req) : planned;
      if (plan) {
        const ledger = await this.readLedger(this.database.sql, { ...plan, req: { ...plan.req, client_order_id: undefined } });
        return await paperRefusal(plan, ledger, { marks: (pairs) => this.#marks(plan, pairs) });
      }
      const info = await this.#validate(req);
      const { market, amount, price, ref } = await this.#prepareLive(req);
      return info.market_type === 'spot' ? await this.live.fundsShortfall(req.account_name, req.connector_name, market, req.side, amount, price ?? ref) : null;
    } catch (err) {
      // No such account or pair is an answer about the request, not about the order: it is raised as such.
      if (err instanceof AppError && err.code !== 'INTERNAL' && err.code !== 'NOT_FOUND') return err;
      throw err;
    }
  }

  /** The checks that need no market: the account has the connector, and spot orders name no perpetual fields. */
  async #validate(req: PlaceOrder) {
    await this.#requireAttached(req.account_name, req.connector_name);
    const info = await this.connectors.info(req.connector_name);
    if (info.market_type === 'spot' && (req.position_action || req.leverage)) {
      throw invalid(req.position_action ? 'position_action' : 'leverage', `${req.connector_name} is a spot connector; position_action and leverage apply to perpetuals`);
    }
    return info;
  }

  /** Whether orders on this connector go to a real exchange (not the sim or a paper engine). */
  async isLive(connector: string): Promise<boolean> {
    return (await this.connectors.info(connector)).kind === 'exchange';
  }

  async #prepareLive(req: PlaceOrder) {
    if (req.leverage) throw invalid('leverage', 'set leverage on the exchange for live perpetual orders; this server does not change it yet');
    const connector = await this.connectors.get(req.connector_name);
    const market = (await connector.loadMarkets()).find((m) => m.trading_pair === req.trading_pair);
    if (!market) throw new AppError('NOT_FOUND', `${req.connector_name} does not list ${req.trading_pair}.`, { hint: `GET /connectors/${req.connector_name}/markets lists its pairs.` });
    const ticker = await connector.fetchTicker(req.trading_pair);
    const ref = new Decimal(String(ticker.last));
    const { amount, price } = applyRules(market, req.side, new Decimal(req.amount), req.price ? new Decimal(req.price) : null, ref);
    return { market, amount, price, ref };
  }

  async #placeLive(req: PlaceOrder, hash: string): Promise<PlaceResult> {
    const { amount, price } = await this.#prepareLive(req);
    const pending = await this.#insertPending(req, hash, amount, price);
    return this.#withFills(await this.live.submit(pending), false, req.connector_name);
  }

  /**
   * A paper order found still `pending_submit` here, under the account lock, is not in flight: its
   * execution was cut off after the row was stored (the database went away mid-order). Its fills never
   * committed, so it is marked failed, as a restart would: the retry then says what happened instead of
   * replaying a pending order that would never execute. A live order is left to the sync loop, which
   * asks its exchange.
   */
  async #settleInterrupted(order: OrderRow): Promise<OrderRow> {
    if (order.status !== 'pending_submit') return order;
    if ((await this.connectors.info(order.connectorName).catch(() => null))?.kind === 'exchange') return order;
    const [row] = await this.db
      .update(orders)
      .set({ status: 'failed', errorMessage: 'interrupted before it was executed (the database became unreachable); nothing was executed', updatedAt: this.clock.date() })
      .where(and(eq(orders.id, order.id), eq(orders.status, 'pending_submit')))
      .returning();
    return row ?? order;
  }

  async #insertPending(req: PlaceOrder, hash: string, amount: Decimal, price: Decimal | null): Promise<OrderRow> {
    const [row] = await this.db.insert(orders).values(this.#draft(req, hash, amount, price)).returning();
    return row!;
  }

  #draft(req: PlaceOrder, hash: string, amount: Decimal, price: Decimal | null): NewOrderRow {
    return { ...orderFields(req, amount, price, hash), leverage: req.leverage ?? null, status: 'pending_submit' };
  }

  /** Leverage for a new position on this pair: the one set with setLeverage, else 1. */
  async leverageFor(account: string, connector: string, pair: string): Promise<number> {
    const [row] = await this.db
      .select({ leverage: leverageSettings.leverage })
      .from(leverageSettings)
      .where(and(eq(leverageSettings.accountName, account), eq(leverageSettings.connectorName, connector), eq(leverageSettings.tradingPair, pair)));
    return row?.leverage ?? 1;
  }

  /**
   * Chooses the leverage of new positions on a perpetual pair of a paper or sim connector. An open
   * position keeps the leverage it was opened with, so changing it then is refused.
   */
  async setLeverage(req: { account_name: string; connector_name: string; trading_pair: string; leverage: number }): Promise<{ previous: number }> {
    return this.#locks.run(req.account_name, async () => {
      await this.#requireAttached(req.account_name, req.connector_name);
      const info = await this.connectors.info(req.connector_name);
      if (info.market_type !== 'perpetual') throw invalid('connector_name', `${req.connector_name} is a spot connector; leverage applies to perpetuals`);
      if (info.kind === 'exchange') throw new AppError('NOT_SUPPORTED', 'Setting leverage on a live exchange is not supported yet.', { hint: 'Set it on the exchange; paper and sim perpetuals support it here.' });
      const venue = await paperVenue(this.connectors, req.connector_name, req.trading_pair);
      const max = venue.market.rules.max_leverage;
      if (max && req.leverage > max) throw invalid('leverage', `${req.trading_pair} allows at most ${max}x`);
      const open = await this.#openPosition(req.account_name, req.connector_name, req.trading_pair);
      if (open && open.leverage !== req.leverage) {
        throw new AppError('PRECONDITION_FAILED', `The open ${req.trading_pair} position uses ${open.leverage}x; its leverage cannot change while it is open.`, { hint: 'Close the position first, then set the leverage.' });
      }
      const previous = await this.leverageFor(req.account_name, req.connector_name, req.trading_pair);
      const values = { accountName: req.account_name, connectorName: req.connector_name, tradingPair: req.trading_pair, leverage: req.leverage, updatedAt: this.clock.date() };
      await this.db.insert(leverageSettings).values(values).onConflictDoUpdate({ target: [leverageSettings.accountName, leverageSettings.connectorName, leverageSettings.tradingPair], set: values });
      return { previous };
    });
  }

  async #openPosition(account: string, connector: string, pair: string) {
    const [p] = await this.db.select().from(positions).where(and(eq(positions.accountName, account), eq(positions.connectorName, connector), eq(positions.tradingPair, pair), ne(positions.amount, '0')));
    return p ?? null;
  }

  /** Whether an order was placed under this client_order_id. */
  async exists(account: string, clientOrderId: string): Promise<boolean> {
    const rows = await this.db.select({ id: orders.id }).from(orders).where(and(eq(orders.accountName, account), eq(orders.clientOrderId, clientOrderId))).limit(1);
    return rows.length > 0;
  }

  /** Base amount of the account's resting orders on one pair and side (closes excluded), which add to that side when they fill. */
  async restingSameSide(account: string, connector: string, pair: string, side: 'buy' | 'sell'): Promise<Decimal> {
    const open = await this.db
      .select({ amount: orders.amount, filled: orders.filledAmount })
      .from(orders)
      .where(and(eq(orders.accountName, account), eq(orders.connectorName, connector), eq(orders.tradingPair, pair), eq(orders.side, side), inArray(orders.status, ['open', 'partially_filled', 'pending_submit']), or(isNull(orders.positionAction), ne(orders.positionAction, 'close'))));
    return open.reduce((sum, o) => sum.plus(new Decimal(o.amount).minus(o.filled)), new Decimal(0));
  }

  /** The open orders of one account (or of every account), for a kill switch that cancels them. */
  async openOrderIds(account: string | null): Promise<Array<{ id: string; account: string }>> {
    const open = inArray(orders.status, ['open', 'partially_filled']);
    return this.db.select({ id: orders.id, account: orders.accountName }).from(orders).where(account ? and(eq(orders.accountName, account), open) : open);
  }

  /** `within`: only orders of these accounts (a principal's account scope); null = any account. */
  async get(account: string | undefined, idOrClientId: string, within: readonly string[] | null = null): Promise<OrderRow> {
    const match = or(eq(orders.id, idOrClientId), eq(orders.clientOrderId, idOrClientId))!;
    const rows = await this.db.select().from(orders).where(and(match, account ? eq(orders.accountName, account) : undefined, within ? inArray(orders.accountName, [...within]) : undefined)).limit(2);
    if (rows.length === 0) throw new AppError('NOT_FOUND', `There is no order ${idOrClientId}${account ? ` on ${account}` : ''}.`, { hint: 'GET /trading/orders lists them.' });
    if (rows.length > 1) throw new AppError('CONFLICT', `${idOrClientId} names orders on several accounts.`, { hint: 'Pass account_name too.' });
    return rows[0]!;
  }

  async cancel(account: string | undefined, idOrClientId: string, within: readonly string[] | null = null): Promise<OrderRow> {
    const order = await this.get(account, idOrClientId, within);
    const info = await this.connectors.info(order.connectorName);
    if (info.kind === 'exchange') return this.#locks.run(order.accountName, () => this.live.cancel(order));
    return this.#locks.run(order.accountName, () => this.engine.cancel(order.id));
  }

  async list(f: { account_name?: string; accounts?: readonly string[] | null; connector_name?: string; trading_pair?: string; status?: 'active' | 'all' | OrderRow['status']; limit: number; cursor?: string }) {
    const conds: SQL[] = [];
    if (f.account_name) conds.push(eq(orders.accountName, f.account_name));
    if (f.accounts) conds.push(inArray(orders.accountName, [...f.accounts]));
    if (f.connector_name) conds.push(eq(orders.connectorName, f.connector_name));
    if (f.trading_pair) conds.push(eq(orders.tradingPair, f.trading_pair));
    const status = f.status ?? 'active';
    if (status === 'active') conds.push(inArray(orders.status, ['open', 'partially_filled', 'pending_submit']));
    else if (status !== 'all') conds.push(eq(orders.status, status));
    const cur = f.cursor ? keysetCursor(f.cursor, ORDER_ID_RE) : null;
    if (cur) conds.push(or(lt(orders.createdAt, cur.at), and(eq(orders.createdAt, cur.at), lt(orders.id, cur.key)))!);
    const rows = await this.db.select().from(orders).where(and(...conds)).orderBy(desc(orders.createdAt), desc(orders.id)).limit(f.limit + 1);
    const more = rows.length > f.limit;
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    return { data: page, pagination: { limit: f.limit, has_more: more, next_cursor: more && last ? encodeKeysetCursor(last.createdAt, last.id) : null } };
  }

  async fills(f: { account_name?: string; accounts?: readonly string[] | null; connector_name?: string; trading_pair?: string; order_id?: string; limit: number; cursor?: string }) {
    const conds: SQL[] = [];
    if (f.account_name) conds.push(eq(fills.accountName, f.account_name));
    if (f.accounts) conds.push(inArray(fills.accountName, [...f.accounts]));
    if (f.connector_name) conds.push(eq(fills.connectorName, f.connector_name));
    if (f.trading_pair) conds.push(eq(fills.tradingPair, f.trading_pair));
    if (f.order_id) conds.push(eq(fills.orderId, f.order_id));
    if (f.cursor) {
      if (!/^\d+$/.test(f.cursor)) throw invalid('cursor', 'a next_cursor value from a previous page');
      conds.push(lt(fills.id, Number(f.cursor)));
    }
    const rows = await this.db.select().from(fills).where(and(...conds)).orderBy(desc(fills.id)).limit(f.limit + 1);
    const more = rows.length > f.limit;
    const page = rows.slice(0, f.limit);
    return { data: page, pagination: { limit: f.limit, has_more: more, next_cursor: more ? String(page[page.length - 1]!.id) : null } };
  }

  async positions(f: { account_name?: string; accounts?: readonly string[] | null; connector_name?: string; trading_pair?: string }) {
    const conds: SQL[] = [ne(positions.amount, '0')];
    if (f.account_name) conds.push(eq(positions.accountName, f.account_name));
    if (f.accounts) conds.push(inArray(positions.accountName, [...f.accounts]));
    if (f.connector_name) conds.push(eq(positions.connectorName, f.connector_name));
    if (f.trading_pair) conds.push(eq(positions.tradingPair, f.trading_pair));
    const rows = await this.db.select().from(positions).where(and(...conds)).orderBy(positions.accountName, positions.connectorName, positions.tradingPair);
    return Promise.all(
      rows.map(async (p) => {
        const mark = await this.#mark(p.connectorName, p.tradingPair).catch(() => null);
        const upnl = mark ? unrealizedPnl({ amount: new Decimal(p.amount), entryPrice: new Decimal(p.entryPrice), margin: new Decimal(p.margin) }, mark) : null;
        return { row: p, mark: mark ? Number(mark) : null, unrealized: upnl ? Number(upnl) : null };
      }),
    );
  }

  /** A market order with position_action close for the whole position (or `amount` of it). */
  async closePosition(req: { account_name: string; connector_name: string; trading_pair: string; amount?: string; client_order_id?: string }): Promise<PlaceResult> {
    const [pos] = await this.db
      .select()
      .from(positions)
      .where(and(eq(positions.accountName, req.account_name), eq(positions.connectorName, req.connector_name), eq(positions.tradingPair, req.trading_pair)));
    const size = pos ? new Decimal(pos.amount) : new Decimal(0);
    if (size.isZero()) {
      throw new AppError('NOT_FOUND', `${req.account_name} has no open ${req.trading_pair} position on ${req.connector_name}.`, { hint: 'GET /trading/positions lists them.' });
    }
    const amount = req.amount ? Decimal.min(new Decimal(req.amount), size.abs()) : size.abs();
    return this.place({
      account_name: req.account_name,
      connector_name: req.connector_name,
      trading_pair: req.trading_pair,
      side: size.isPositive() ? 'sell' : 'buy',
      order_type: 'market',
      amount: amount.toFixed(),
      position_action: 'close',
      client_order_id: req.client_order_id,
    });
  }

  async #mark(connector: string, pair: string): Promise<Decimal> {
    const venue = await paperVenue(this.connectors, connector, pair);
    return midOf(await venue.book(1));
  }

  async #requireAttached(account: string, connector: string): Promise<void> {
    const [acct] = await this.db.select().from(accounts).where(eq(accounts.name, account));
    if (!acct) throw new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists them.' });
    const [row] = await this.db.select().from(accountConnectors).where(and(eq(accountConnectors.accountName, account), eq(accountConnectors.connectorName, connector)));
    if (!row) {
      throw new AppError('PRECONDITION_FAILED', `Account ${account} has no ${connector} connector.`, {
        hint: `An admin attaches it with PUT /accounts/${account}; paper and sim connectors need no credentials.`,
      });
    }
  }

  /** Settles what a crash left (see reconcile), then matches resting orders in the background. */
  async start(): Promise<void> {
    await this.reconcile();
    if (this.settings.matchEveryMs) this.startMatcher(this.settings.matchEveryMs);
  }

  stop(): void {
    this.stopMatcher();
  }

  /** Start-up: orders left `pending_submit` by a crash are settled before anything else runs. */
  async reconcile(): Promise<{ failed: number; live_resolved: number; live_unresolved: number }> {
    const pending = await this.db.select().from(orders).where(eq(orders.status, 'pending_submit'));
    const paperIds: string[] = [];
    const live: OrderRow[] = [];
    for (const o of pending) {
      const info = await this.connectors.info(o.connectorName).catch(() => null);
      if (info?.kind === 'exchange') live.push(o);
      else paperIds.push(o.id);
    }
    const failed = await this.engine.failPending(paperIds);
    if (failed) this.logger.warn('orders interrupted before execution were marked failed', { count: failed });
    // Live orders of unknown outcome are looked up on their exchange; an unreachable one is retried by the sync loop.
    const resolved = await this.live.sync(live);
    return { failed, live_resolved: resolved, live_unresolved: live.length - resolved };
  }

  /** Checks resting paper orders against the book every `intervalMs`. */
  startMatcher(intervalMs = 1000): void {
    if (this.#matcher) return;
    this.#matcher = setInterval(() => void this.matchOnce(), intervalMs);
    this.#matcher.unref();
  }

  async matchOnce(): Promise<number> {
    if (this.#matching) return 0;
    this.#matching = true;
    try {
      if (this.clock.now() - this.#lastLiveSync > 5000) {
        this.#lastLiveSync = this.clock.now();
        const liveOpen = await this.db.select().from(orders).where(or(and(inArray(orders.status, ['open', 'partially_filled']), isNotNull(orders.exchangeOrderId)), and(eq(orders.status, 'pending_submit'), lt(orders.createdAt, new Date(this.clock.now() - 10_000))))!);
        const liveRows: OrderRow[] = [];
        for (const o of liveOpen) if ((await this.connectors.info(o.connectorName).catch(() => null))?.kind === 'exchange') liveRows.push(o);
        await this.live.sync(liveRows);
      }
      const matched = await this.engine.matchResting(async (connector, pair) => {
        const venue = await paperVenue(this.connectors, connector, pair);
        return { ob: await venue.book(BOOK_DEPTH), market: venue.market, marketType: venue.marketType };
      });
      this.#matchFailures = 0;
      return matched;
    } catch (err) {
      // Through a database outage every round fails the same way: log the first and then one a minute.
      this.#matchFailures++;
      if (this.#matchFailures === 1 || this.#matchFailures % 60 === 0) this.logger.warn('matching resting orders failed; retrying every round', { failures: this.#matchFailures, err });
      return 0;
    } finally {
      this.#matching = false;
    }
  }

  stopMatcher(): void {
    clearInterval(this.#matcher);
    this.#matcher = undefined;
  }
}


