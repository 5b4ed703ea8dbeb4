import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Db } from '../db/client.js';
import { fills, orders, positions, type OrderRow, type PositionRow } from '../db/schema/index.js';
import { Decimal } from '../decimal.js';
import type { Market, MarketType, OrderBook } from '../exchange/types.js';
import { PaperBook } from './balances.js';
import { lazyLevels, walkBook, type Execution } from './matching/book-walk.js';
import type { FillGuard } from './fill-guard.js';
import { reducible, reserveFor, settle, type HeldPosition } from './matching/match.js';

export { insufficientFunds } from './matching/match.js';

/** An order row before it is stored. */
export type NewOrderRow = typeof orders.$inferInsert;

const ZERO = new Decimal(0);
const D = (v: string | null | undefined) => new Decimal(v ?? '0');

interface Ctx {
  tx: Db;
  order: OrderRow;
  market: Market;
  marketType: MarketType;
  book: PaperBook;
}

/**
 * The paper ledger's background work: resting orders that the market reaches are filled as maker, a
 * cancel releases what an order held, and orders a crash left unexecuted are settled at start. New
 * orders are placed by paper-order.ts. The arithmetic is the pure matcher's (matching/); this class
 * stores its answers. Every change of one order is one transaction that first takes the account's row
 * lock, so it never interleaves with a placement on the same account, in this process or another.
 */
export class PaperEngine {
  /** `guard` re-checks the account's limits when a resting order fills; without one (tests of the engine alone) nothing is re-checked. */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly guard?: FillGuard,
  ) {}

  /** Books executions: balances, position, fill rows, and the order's filled amount, average and fees. */
  async #applyExecutions(ctx: Ctx, execs: Execution[], maker: boolean, leverage: number): Promise<void> {
    if (execs.length === 0) return;
    const { tx, order, market, marketType, book } = ctx;
    const posRow = marketType === 'perpetual' ? (await tx.select().from(positions).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair))).for('update'))[0] : undefined;
    const held = new Map<string, HeldPosition>(posRow ? [[order.tradingPair, heldOf(posRow)]] : []);
    const s = settle(order, { base: market.base, quote: market.quote, marketType }, { balances: new Map(), positions: held, leverageSetting: leverage }, execs, maker, leverage);
    for (const d of s.deltas) await book.adjust(d.asset, d.total, d.locked);
    const now = this.clock.date();
    for (const f of s.fills) {
      await tx.insert(fills).values({
        fillId: `${order.id}-${randomUUID().slice(0, 8)}`,
        orderId: order.id,
        accountName: order.accountName,
        connectorName: order.connectorName,
        tradingPair: order.tradingPair,
        side: order.side,
        price: f.price.toFixed(),
        amount: f.amount.toFixed(),
        fee: f.fee.toFixed(),
        feeAsset: market.quote,
        isMaker: maker,
        realizedPnl: f.realizedPnl?.toFixed() ?? null,
        at: now,
      });
    }
    if (s.position) {
      const p = s.position;
      const values = { amount: p.amount.toFixed(), entryPrice: p.entryPrice.toFixed(), margin: p.margin.toFixed(), leverage: p.leverage, realizedPnl: p.realizedPnl.toFixed(), updatedAt: now };
      if (posRow) await tx.update(positions).set(values).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair)));
      else await tx.insert(positions).values({ accountName: order.accountName, connectorName: order.connectorName, tradingPair: order.tradingPair, ...values });
    }
    const filled = D(order.filledAmount).plus(execs.reduce((a, e) => a.plus(e.amount), ZERO));
    const notionalSum = D(order.averageFillPrice).times(D(order.filledAmount)).plus(s.notional);
    const [updated] = await tx
      .update(orders)
      .set({ filledAmount: filled.toFixed(), averageFillPrice: q18(notionalSum.div(filled)).toFixed(), feePaid: D(order.feePaid).plus(s.feePaid).toFixed(), feeAsset: market.quote, updatedAt: now })
      .where(eq(orders.id, order.id))
      .returning();
    ctx.order = updated!;
  }

  /**
   * Fills resting orders the market has reached: a buy when the best ask is at or below its price, a
   * sell when the best bid is at or above, as maker at the order's own price, up to the size the book
   * shows there. Returns how many orders changed.
   */
  async matchResting(books: (connector: string, pair: string) => Promise<{ ob: OrderBook; market: Market; marketType: MarketType } | null>): Promise<number> {
    const open = await this.db.select().from(orders).where(inArray(orders.status, ['open', 'partially_filled']));
    let changed = 0;
    const byMarket = new Map<string, OrderRow[]>();
    for (const o of open) {
      if (o.exchangeOrderId) continue; // live orders are the exchange's to fill
      const key = `${o.connectorName}|${o.tradingPair}`;
      byMarket.set(key, [...(byMarket.get(key) ?? []), o]);
    }
    for (const [key, list] of byMarket) {
      const [connector, pair] = key.split('|') as [string, string];
      const src = await books(connector, pair).catch(() => null);
      if (!src) continue;
      // Priced once per market and round, outside the fills' transactions (it may reach the network).
      const usdtPerQuote = this.guard ? await this.guard.usdtPer(connector, src.market.quote).catch(() => null) : null;
      const bestBid = src.ob.bids[0] ? new Decimal(String(src.ob.bids[0].price)) : undefined;
      const bestAsk = src.ob.asks[0] ? new Decimal(String(src.ob.asks[0].price)) : undefined;
      for (const o of list) {
        const price = D(o.price);
        const reached = o.side === 'buy' ? bestAsk !== undefined && bestAsk.lte(price) : bestBid !== undefined && bestBid.gte(price);
        if (!reached) continue;
        const available = walkBook(lazyLevels(o.side === 'buy' ? src.ob.asks : src.ob.bids), D(o.amount).minus(D(o.filledAmount)), o.side, price).filled;
        if (available.lte(0)) continue;
        changed += (await this.#fillResting(o.id, available, src.market, src.marketType, usdtPerQuote)) ? 1 : 0;
      }
    }
    return changed;
  }

  async #fillResting(orderId: string, available: Decimal, market: Market, marketType: MarketType, usdtPerQuote: Decimal | null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const [head] = await tx.select({ accountName: orders.accountName }).from(orders).where(eq(orders.id, orderId));
      if (!head) return false;
      await lockAccountRow(t, head.accountName);
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
      if (!order || (order.status !== 'open' && order.status !== 'partially_filled')) return false;
      const remaining = D(order.amount).minus(D(order.filledAmount));
      let amount = Decimal.min(remaining, available);
      const closable = order.positionAction === 'close' ? await this.#reducible(t, order) : null;
      if (closable !== null && closable.lt(amount)) {
        // A resting close may only reduce what is still open when it fills: other fills may have shrunk
        // or closed the position since it was placed, and it must never open one the other way.
        if (closable.lte(0)) {
          if (order.reservedAsset && D(order.reservedAmount).gt(0)) await new PaperBook(t, order.accountName, order.connectorName).adjust(order.reservedAsset, ZERO, D(order.reservedAmount).neg());
          await tx.update(orders).set({ status: 'canceled', reservedAmount: '0', errorMessage: 'canceled: the position it was to reduce is closed', updatedAt: this.clock.date() }).where(eq(orders.id, order.id));
          return true;
        }
        amount = closable;
      }
      const price = D(order.price);
      const ctx: Ctx = { tx: t, order, market, marketType, book: new PaperBook(t, order.accountName, order.connectorName) };
      const reserved = D(order.reservedAmount);
      // A risk-increasing order meets the account's limits as they are now, not as they were when it was placed.
      let stopped: { guard: string; reason: string } | undefined;
      if (closable === null && this.guard) {
        const verdict = await this.guard.check(t, { order, market, marketType, amount, price, usdtPerQuote, ...(await this.#holding(ctx)) });
        stopped = verdict.cancel;
        if (verdict.amount.lt(amount)) amount = verdict.amount;
        if (amount.lte(0) && !stopped) return false;
      }
      const stopMessage = stopped && `${amount.gt(0) ? 'remainder ' : ''}canceled when it came to fill, by the ${stopped.guard} guard: ${stopped.reason}`;
      const release = amount.eq(remaining) || stopped ? reserved : Decimal.min(reserved, reserveFor(order, { base: market.base, quote: market.quote, marketType }, amount, price, order.leverage ?? 1).amount);
      if (order.reservedAsset && release.gt(0)) await ctx.book.adjust(order.reservedAsset, ZERO, release.neg());
      if (amount.gt(0)) await this.#applyExecutions(ctx, [{ price, amount }], true, order.leverage ?? 1);
      const done = amount.eq(remaining);
      // A close whose position is now flat has nothing left to reduce: its remainder is canceled.
      const flat = !done && closable !== null && amount.eq(closable);
      await tx
        .update(orders)
        .set({
          status: done ? 'filled' : flat || stopped ? 'canceled' : 'partially_filled',
          reservedAmount: reserved.minus(release).toFixed(),
          ...(flat ? { errorMessage: 'remainder canceled: the position it was to reduce is closed' } : {}),
          ...(stopMessage && !done ? { errorMessage: stopMessage } : {}),
          updatedAt: this.clock.date(),
        })
        .where(eq(orders.id, order.id));
      return true;
    });
  }

  /**
   * What a fill would add to, read with its row locked until the fill commits: the perpetual position
   * and the leverage a fill trades at (the open position's, else the order's), or the spot base balance.
   */
  async #holding(ctx: Ctx): Promise<{ position: Decimal; leverage: number | null }> {
    const { tx, order, market, marketType } = ctx;
    if (marketType === 'spot') return { position: (await ctx.book.get(market.base)).total, leverage: null };
    const [p] = await tx
      .select()
      .from(positions)
      .where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair)))
      .for('update');
    const size = D(p?.amount);
    return { position: size, leverage: p && !size.isZero() ? p.leverage : (order.leverage ?? 1) };
  }

  /** How much of the position a close order can still reduce: the opposite side's size, else 0. */
  async #reducible(tx: Db, order: OrderRow): Promise<Decimal> {
    const [p] = await tx.select().from(positions).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair)));
    return reducible(D(p?.amount), order.side);
  }

  /** Cancels an open paper order and releases what it held. */
  async cancel(orderId: string): Promise<OrderRow> {
    return this.db.transaction(async (tx) => {
      const [head] = await tx.select({ accountName: orders.accountName }).from(orders).where(eq(orders.id, orderId));
      if (!head) throw new AppError('NOT_FOUND', `There is no order ${orderId}.`);
      await lockAccountRow(tx as unknown as Db, head.accountName);
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
      if (!order) throw new AppError('NOT_FOUND', `There is no order ${orderId}.`);
      if (order.status !== 'open' && order.status !== 'partially_filled') {
        throw new AppError('CONFLICT', `Order ${order.id} is ${order.status} and cannot be canceled.`, { details: { status: order.status } });
      }
      const book = new PaperBook(tx as unknown as Db, order.accountName, order.connectorName);
      if (order.reservedAsset && D(order.reservedAmount).gt(0)) await book.adjust(order.reservedAsset, ZERO, D(order.reservedAmount).neg());
      const [row] = await tx
        .update(orders)
        .set({ status: 'canceled', reservedAmount: '0', updatedAt: this.clock.date() })
        .where(eq(orders.id, order.id))
        .returning();
      return row!;
    });
  }

  /**
   * At start: an order still `pending_submit` never reached the engine (its execution and its status
   * change are one transaction), so it is marked failed and nothing else changes.
   */
  async failPending(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.db
      .update(orders)
      .set({ status: 'failed', errorMessage: 'the server stopped before this order was executed; nothing was executed', updatedAt: sql`now()` })
      .where(and(inArray(orders.id, ids), eq(orders.status, 'pending_submit')))
      .returning();
    return rows.length;
  }
}

function heldOf(p: PositionRow): HeldPosition {
  return { amount: D(p.amount), entryPrice: D(p.entryPrice), margin: D(p.margin), leverage: p.leverage, realizedPnl: D(p.realizedPnl) };
}

const q18 = (d: Decimal) => d.toDecimalPlaces(18, Decimal.ROUND_HALF_EVEN);

/** The account's row lock, as a placement takes it (see ledger-state.ts), for this transaction. */
async function lockAccountRow(tx: Db, account: string): Promise<void> {
  await tx.execute(sql`select name from accounts where name = ${account} for no key update`);
}
