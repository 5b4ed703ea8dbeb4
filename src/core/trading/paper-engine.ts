import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../command/errors.js';
import type { Db } from '../db/client.js';
import { fills, orders, positions, type OrderRow, type PositionRow } from '../db/schema/index.js';

/** An order row before it is stored. */
export type NewOrderRow = typeof orders.$inferInsert;
import { Decimal } from '../decimal.js';
import type { Market, MarketType, OrderBook } from '../exchange/types.js';
import { PaperBook } from './balances.js';
import { crosses, toLevels, walkBook, type Execution } from './book-walk.js';
import { feeOn, PAPER_FEES, q18 } from './fees.js';
import type { FillGuard } from './fill-guard.js';
import { applyFill, unrealizedPnl, type PositionState } from './position-math.js';

const ZERO = new Decimal(0);
/** Thrown to roll a dry run back; never escapes the engine. */
const ROLLBACK = Symbol('rollback');
const D = (v: string | null | undefined) => new Decimal(v ?? '0');

/** Marks (mid prices) of the pairs a perpetual account holds positions in, for its equity. */
export type MarkSource = (pair: string) => Promise<Decimal>;

interface Ctx {
  tx: Db;
  order: OrderRow;
  market: Market;
  marketType: MarketType;
  book: PaperBook;
}

/**
 * Our own matching engine for paper and sim connectors. An order takes liquidity from the book it is
 * given (walking levels, so size moves the price), the rest of a limit order rests and holds funds back
 * until it fills or is canceled. Spot settles both assets; perpetuals keep one-way positions with
 * margin in the quote asset. Every change of one order is one transaction: it either all happened or
 * none of it did, which is what makes a restart safe.
 */
export class PaperEngine {
  /** `guard` re-checks the account's limits when a resting order fills; without one (tests of the engine alone) nothing is re-checked. */
  constructor(
    private readonly db: Db,
    private readonly guard?: FillGuard,
  ) {}

  /** Executes a `pending_submit` order against `book`; returns the order as stored afterwards. */
  async submit(order: OrderRow, market: Market, marketType: MarketType, ob: OrderBook, marks: MarkSource): Promise<OrderRow> {
    return this.db.transaction(async (tx) => this.#execute(tx as unknown as Db, order, market, marketType, ob, marks));
  }

  /**
   * What submit would answer for this order now, changing nothing: the order is executed in a
   * transaction that is always rolled back, so the preview meets exactly the engine's own checks
   * (market rules already applied by the caller, limit_maker crossing, funds, margin, reduce-only).
   * Returns the refusal, or null when the order would be accepted.
   */
  async wouldRefuse(draft: NewOrderRow, market: Market, marketType: MarketType, ob: OrderBook, marks: MarkSource): Promise<AppError | null> {
    try {
      await this.db.transaction(async (tx) => {
        const [order] = await tx.insert(orders).values(draft).returning();
        await this.#execute(tx as unknown as Db, order!, market, marketType, ob, marks);
        throw ROLLBACK;
      });
    } catch (err) {
      if (err === ROLLBACK) return null;
      if (err instanceof AppError && err.code !== 'INTERNAL') return err;
      throw err;
    }
    return null;
  }

  async #execute(tx: Db, order: OrderRow, market: Market, marketType: MarketType, ob: OrderBook, marks: MarkSource): Promise<OrderRow> {
    const ctx: Ctx = { tx, order, market, marketType, book: new PaperBook(tx, order.accountName, order.connectorName) };
    const amount = D(order.amount);
    const limit = order.price ? D(order.price) : undefined;
    const side = order.side;
    const bids = toLevels(ob.bids);
    const asks = toLevels(ob.asks);
    if (order.orderType === 'limit_maker' && limit && crosses(side, limit, bids[0]?.price, asks[0]?.price)) {
      throw reject(`A limit_maker ${side} at ${limit} would take liquidity (best ${side === 'buy' ? 'ask' : 'bid'} ${side === 'buy' ? asks[0]?.price : bids[0]?.price}).`, 'Use a price that rests on the book, or a limit order.');
    }
    const taker = order.orderType === 'limit_maker' ? { executions: [], filled: ZERO, notional: ZERO } : walkBook(side === 'buy' ? asks : bids, amount, side, limit);
    const rest = order.orderType === 'market' ? ZERO : amount.minus(taker.filled);
    // One leverage for the check, the reservation and the fills: the open position's, else the order's.
    const leverage = marketType === 'perpetual' ? await this.#effectiveLeverage(ctx) : 1;

    if (marketType === 'spot') await this.#checkSpot(ctx, taker.executions, rest, limit);
    else await this.#checkPerp(ctx, taker.executions, rest, limit, leverage, marks);

    await this.#applyExecutions(ctx, taker.executions, false, leverage);
    let reserved: { asset: string; amount: Decimal } | null = null;
    if (rest.gt(0)) {
      reserved = this.#reserveFor(ctx, rest, limit!, leverage);
      await ctx.book.adjust(reserved.asset, ZERO, reserved.amount);
    }
    const filled = taker.filled;
    const status = rest.gt(0) ? (filled.gt(0) ? 'partially_filled' : 'open') : filled.eq(amount) ? 'filled' : 'canceled';
    const [row] = await tx
      .update(orders)
      .set({
        status,
        leverage: marketType === 'perpetual' ? leverage : null,
        reservedAsset: reserved?.asset ?? null,
        reservedAmount: (reserved?.amount ?? ZERO).toFixed(),
        errorMessage: status === 'canceled' ? (filled.gt(0) ? `the book held only ${filled} ${market.base}; the rest was canceled` : 'the book had no liquidity for this order') : null,
        updatedAt: new Date(),
      })
      .where(eq(orders.id, order.id))
      .returning();
    return row!;
  }

  async #effectiveLeverage(ctx: Ctx): Promise<number> {
    const { tx, order } = ctx;
    const [p] = await tx
      .select()
      .from(positions)
      .where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair)));
    return p && !D(p.amount).isZero() ? p.leverage : (order.leverage ?? 1);
  }

  async #checkSpot(ctx: Ctx, execs: Execution[], rest: Decimal, limit: Decimal | undefined): Promise<void> {
    const { order, market } = ctx;
    const fees = PAPER_FEES.spot;
    if (order.side === 'buy') {
      const cost = execs.reduce((s, e) => s.plus(q18(e.amount.times(e.price))).plus(feeOn(e.amount.times(e.price), fees.taker)), ZERO);
      const reserve = rest.gt(0) ? this.#reserveFor(ctx, rest, limit!, 1).amount : ZERO;
      const need = cost.plus(reserve);
      const have = await ctx.book.available(market.quote);
      if (need.gt(have)) throw insufficientFunds(market.quote, need, have);
    } else {
      const need = execs.reduce((s, e) => s.plus(e.amount), ZERO).plus(rest);
      const have = await ctx.book.available(market.base);
      if (need.gt(have)) throw insufficientFunds(market.base, need, have);
    }
  }

  async #checkPerp(ctx: Ctx, execs: Execution[], rest: Decimal, limit: Decimal | undefined, leverage: number, marks: MarkSource): Promise<void> {
    const { order, market, tx } = ctx;
    const all = await tx.select().from(positions).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName)));
    let equityExtra = ZERO;
    let marginUsed = ZERO;
    for (const p of all) {
      marginUsed = marginUsed.plus(D(p.margin));
      if (!D(p.amount).isZero()) equityExtra = equityExtra.plus(unrealizedPnl(state(p), await marks(p.tradingPair)));
    }
    const quote = await ctx.book.get(market.quote);
    const free = quote.total.plus(equityExtra).minus(quote.locked).minus(marginUsed);
    const current = all.find((p) => p.tradingPair === order.tradingPair);
    let pos: PositionState = current ? state(current) : { amount: ZERO, entryPrice: ZERO, margin: ZERO };
    if (current && !D(current.amount).isZero() && order.leverage && order.leverage !== current.leverage) {
      throw new AppError('VALIDATION_FAILED', `Invalid input: leverage: the open ${order.tradingPair} position uses ${current.leverage}x.`, {
        hint: `Omit leverage or pass ${current.leverage}; close the position to change it.`,
        details: { issues: [{ path: 'leverage', message: `the open position uses ${current.leverage}x` }] },
      });
    }
    const lev = current && !D(current.amount).isZero() ? current.leverage : leverage;
    if (order.positionAction === 'close') {
      const qty = D(order.amount);
      const reduces = !pos.amount.isZero() && pos.amount.isPositive() === (order.side === 'sell');
      if (!reduces || qty.gt(pos.amount.abs())) {
        throw new AppError('VALIDATION_FAILED', `Invalid input: amount: a close order must reduce the ${order.tradingPair} position (${pos.amount.toString()}) without reversing it.`, {
          hint: 'Use trading_close_position, or an amount up to the position size on the opposite side.',
          details: { issues: [{ path: 'amount', message: `at most ${pos.amount.abs().toString()} on the ${pos.amount.isPositive() ? 'sell' : 'buy'} side` }] },
        });
      }
    }
    let delta = ZERO;
    for (const e of execs) {
      const qty = order.side === 'buy' ? e.amount : e.amount.neg();
      const change = applyFill(pos, qty, e.price, lev);
      delta = delta.plus(change.realizedPnl).minus(feeOn(e.amount.times(e.price), PAPER_FEES.perpetual.taker)).minus(change.next.margin.minus(pos.margin));
      pos = change.next;
    }
    const reserve = rest.gt(0) && order.positionAction !== 'close' ? this.#reserveFor(ctx, rest, limit!, lev).amount : ZERO;
    const need = delta.neg().plus(reserve);
    if (need.gt(free)) throw insufficientFunds(`${market.quote} margin`, need, Decimal.max(free, ZERO));
  }

  /** What an open remainder holds back: quote for a buy (price + maker fee), base for a spot sell, margin for perps. */
  #reserveFor(ctx: Ctx, rest: Decimal, price: Decimal, leverage: number): { asset: string; amount: Decimal } {
    const { order, market, marketType } = ctx;
    if (marketType === 'perpetual') {
      if (order.positionAction === 'close') return { asset: market.quote, amount: ZERO };
      const notional = rest.times(price);
      return { asset: market.quote, amount: q18(notional.div(leverage)).plus(feeOn(notional, PAPER_FEES.perpetual.maker)) };
    }
    if (order.side === 'sell') return { asset: market.base, amount: rest };
    const notional = q18(rest.times(price));
    return { asset: market.quote, amount: notional.plus(feeOn(notional, PAPER_FEES.spot.maker)) };
  }

  /** Books executions: balances, position, fill rows, and the order's filled amount, average and fees. */
  async #applyExecutions(ctx: Ctx, execs: Execution[], maker: boolean, leverage: number): Promise<void> {
    if (execs.length === 0) return;
    const { tx, order, market, marketType, book } = ctx;
    const rate = PAPER_FEES[marketType][maker ? 'maker' : 'taker'];
    let filled = D(order.filledAmount);
    let notionalSum = D(order.averageFillPrice).times(filled);
    let feePaid = D(order.feePaid);
    let posRow = marketType === 'perpetual' ? (await tx.select().from(positions).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair))).for('update'))[0] : undefined;
    let pos: PositionState = posRow ? state(posRow) : { amount: ZERO, entryPrice: ZERO, margin: ZERO };
    let realizedTotal = posRow ? D(posRow.realizedPnl) : ZERO;
    const lev = posRow && !D(posRow.amount).isZero() ? posRow.leverage : leverage;
    for (const e of execs) {
      const notional = q18(e.amount.times(e.price));
      const fee = feeOn(e.amount.times(e.price), rate);
      let realized: Decimal | null = null;
      if (marketType === 'spot') {
        if (order.side === 'buy') {
          await book.adjust(market.quote, notional.plus(fee).neg());
          await book.adjust(market.base, e.amount);
        } else {
          await book.adjust(market.base, e.amount.neg());
          await book.adjust(market.quote, notional.minus(fee));
        }
      } else {
        const change = applyFill(pos, order.side === 'buy' ? e.amount : e.amount.neg(), e.price, lev);
        pos = change.next;
        realized = change.realizedPnl;
        realizedTotal = realizedTotal.plus(realized);
        await book.adjust(market.quote, realized.minus(fee));
      }
      await tx.insert(fills).values({
        fillId: `${order.id}-${randomUUID().slice(0, 8)}`,
        orderId: order.id,
        accountName: order.accountName,
        connectorName: order.connectorName,
        tradingPair: order.tradingPair,
        side: order.side,
        price: e.price.toFixed(),
        amount: e.amount.toFixed(),
        fee: fee.toFixed(),
        feeAsset: market.quote,
        isMaker: maker,
        realizedPnl: realized?.toFixed() ?? null,
      });
      filled = filled.plus(e.amount);
      notionalSum = notionalSum.plus(e.amount.times(e.price));
      feePaid = feePaid.plus(fee);
    }
    if (marketType === 'perpetual') {
      const values = { amount: pos.amount.toFixed(), entryPrice: pos.entryPrice.toFixed(), margin: pos.margin.toFixed(), leverage: lev, realizedPnl: realizedTotal.toFixed(), updatedAt: new Date() };
      if (posRow) await tx.update(positions).set(values).where(and(eq(positions.accountName, order.accountName), eq(positions.connectorName, order.connectorName), eq(positions.tradingPair, order.tradingPair)));
      else await tx.insert(positions).values({ accountName: order.accountName, connectorName: order.connectorName, tradingPair: order.tradingPair, ...values });
      posRow = undefined;
    }
    const avg = q18(notionalSum.div(filled));
    const [updated] = await tx
      .update(orders)
      .set({ filledAmount: filled.toFixed(), averageFillPrice: avg.toFixed(), feePaid: feePaid.toFixed(), feeAsset: market.quote, updatedAt: new Date() })
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
        const available = walkBook(toLevels(o.side === 'buy' ? src.ob.asks : src.ob.bids), D(o.amount).minus(D(o.filledAmount)), o.side, price).filled;
        if (available.lte(0)) continue;
        changed += (await this.#fillResting(o.id, available, src.market, src.marketType, usdtPerQuote)) ? 1 : 0;
      }
    }
    return changed;
  }

  async #fillResting(orderId: string, available: Decimal, market: Market, marketType: MarketType, usdtPerQuote: Decimal | null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
      if (!order || (order.status !== 'open' && order.status !== 'partially_filled')) return false;
      const remaining = D(order.amount).minus(D(order.filledAmount));
      let amount = Decimal.min(remaining, available);
      const reducible = order.positionAction === 'close' ? await this.#reducible(t, order) : null;
      if (reducible !== null && reducible.lt(amount)) {
        // A resting close may only reduce what is still open when it fills: other fills may have shrunk
        // or closed the position since it was placed, and it must never open one the other way.
        if (reducible.lte(0)) {
          if (order.reservedAsset && D(order.reservedAmount).gt(0)) await new PaperBook(t, order.accountName, order.connectorName).adjust(order.reservedAsset, ZERO, D(order.reservedAmount).neg());
          await tx.update(orders).set({ status: 'canceled', reservedAmount: '0', errorMessage: 'canceled: the position it was to reduce is closed', updatedAt: new Date() }).where(eq(orders.id, order.id));
          return true;
        }
        amount = reducible;
      }
      const price = D(order.price);
      const ctx: Ctx = { tx: t, order, market, marketType, book: new PaperBook(t, order.accountName, order.connectorName) };
      const reserved = D(order.reservedAmount);
      // A risk-increasing order meets the account's limits as they are now, not as they were when it was placed.
      let stopped: { guard: string; reason: string } | undefined;
      if (reducible === null && this.guard) {
        const verdict = await this.guard.check(t, { order, market, marketType, amount, price, usdtPerQuote, ...(await this.#holding(ctx)) });
        stopped = verdict.cancel;
        if (verdict.amount.lt(amount)) amount = verdict.amount;
        if (amount.lte(0) && !stopped) return false;
      }
      const stopMessage = stopped && `${amount.gt(0) ? 'remainder ' : ''}canceled when it came to fill, by the ${stopped.guard} guard: ${stopped.reason}`;
      const release = amount.eq(remaining) || stopped ? reserved : Decimal.min(reserved, this.#reserveFor(ctx, amount, price, order.leverage ?? 1).amount);
      if (order.reservedAsset && release.gt(0)) await ctx.book.adjust(order.reservedAsset, ZERO, release.neg());
      if (amount.gt(0)) await this.#applyExecutions(ctx, [{ price, amount }], true, order.leverage ?? 1);
      const done = amount.eq(remaining);
      // A close whose position is now flat has nothing left to reduce: its remainder is canceled.
      const flat = !done && reducible !== null && amount.eq(reducible);
      await tx
        .update(orders)
        .set({
          status: done ? 'filled' : flat || stopped ? 'canceled' : 'partially_filled',
          reservedAmount: reserved.minus(release).toFixed(),
          ...(flat ? { errorMessage: 'remainder canceled: the position it was to reduce is closed' } : {}),
          ...(stopMessage && !done ? { errorMessage: stopMessage } : {}),
          updatedAt: new Date(),
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
    const size = D(p?.amount);
    const reduces = !size.isZero() && size.isPositive() === (order.side === 'sell');
    return reduces ? size.abs() : ZERO;
  }

  /** Cancels an open paper order and releases what it held. */
  async cancel(orderId: string): Promise<OrderRow> {
    return this.db.transaction(async (tx) => {
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
      if (!order) throw new AppError('NOT_FOUND', `There is no order ${orderId}.`);
      if (order.status !== 'open' && order.status !== 'partially_filled') {
        throw new AppError('CONFLICT', `Order ${order.id} is ${order.status} and cannot be canceled.`, { details: { status: order.status } });
      }
      const book = new PaperBook(tx as unknown as Db, order.accountName, order.connectorName);
      if (order.reservedAsset && D(order.reservedAmount).gt(0)) await book.adjust(order.reservedAsset, ZERO, D(order.reservedAmount).neg());
      const [row] = await tx
        .update(orders)
        .set({ status: 'canceled', reservedAmount: '0', updatedAt: new Date() })
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

function state(p: PositionRow): PositionState {
  return { amount: D(p.amount), entryPrice: D(p.entryPrice), margin: D(p.margin) };
}

function reject(message: string, hint: string): AppError {
  return new AppError('UPSTREAM_REJECTED', message, { hint });
}

/** The refusal for an order the account cannot pay for; the paper engine's and a live preview's. */
export function insufficientFunds(asset: string, need: Decimal, have: Decimal): AppError {
  return new AppError('UPSTREAM_REJECTED', `Insufficient ${asset}: the order needs ${need.toDecimalPlaces(8).toString()}, ${have.toDecimalPlaces(8).toString()} is available.`, {
    hint: 'Reduce the amount, cancel open orders that hold funds, or add paper balance.',
    details: { reason: 'insufficient_funds', asset, required: Number(need.toDecimalPlaces(8)), available: Number(have.toDecimalPlaces(8)) },
  });
}
