import { Decimal } from '../../decimal.js';
import { edgeAbove, edgeBelow } from '../price-edge.js';
import type { ExecutorContext, IdleBand, MarketView, OrderFill, Quote } from '../types.js';
import { BaseExecutor, MAX_CLOSE_REJECTIONS } from './base.js';
import { frac } from './barriers.js';
import type { GridExecutorConfig } from './configs.js';
import { type GridLevelPlan, planGrid } from './grid-levels.js';
import type { TrackedOrder } from './tracked-orders.js';

type LevelState = 'idle' | 'opening' | 'holding' | 'failed';

/** Relative distance by which an edge that only lets the grid look again is pulled inside the band. */
const WAKE_MARGIN = 1e-12;

interface Level extends GridLevelPlan {
  state: LevelState;
  /** Take profits of this level the venue refused in a row. */
  takeProfitRejections: number;
  /** Base bought (sold, short grid) at this level and not yet taken profit on. */
  held: Decimal;
  /** Average fill price of what is held. */
  entry: Decimal | null;
}

/**
 * A grid between start_price and end_price: n evenly spaced levels, each worth total_amount_quote / n,
 * laid at the first tick and sized to the market's rules when the view knows them (planGrid; a grid
 * that cannot fund one level ends FAILED at once, its report saying why). A long grid (side buy)
 * rests a limit-maker buy at each idle level below the mid by at least safe_extra_spread, nearest the
 * price first, at most max_open_orders opening at once and max_orders_per_batch per batch, one batch
 * every order_frequency seconds; within activation_bounds of the mid only (an unfilled opening order
 * that drifts out is cancelled). A level whose buy is done places its take profit: a limit-maker sell
 * of what it holds at entry × (1 + take_profit), or just above the ask if that is higher; when it fills
 * the level is idle again and the round trip's profit is realized. A short grid mirrors it. The grid ends at the time limit (EXPIRED
 * with nothing held, TIME_LIMIT otherwise) or when the price crosses limit_price (below it for a long,
 * above for a short: STOP_LOSS); its holdings are then closed at market unless keep_position. A level
 * whose opening order is rejected is left out from then on; the first rejection ends the grid while it
 * has never filled (INSUFFICIENT_BALANCE when the venue says so).
 */
export class GridExecutor extends BaseExecutor<GridExecutorConfig> {
  /** Laid at the first tick, when the market's rules are at hand (planGrid), and kept in the state from then on. */
  private levels: Level[] = [];
  private lastBatchAt: number | null = null;
  private roundTrips = 0;
  /** The mid at the last tick, as a number: which side of each level's window the price is on (for idleBand only). */
  private lastMid: number | null = null;

  private get long(): boolean {
    return this.config.side === 'buy';
  }

  private get deadline(): number {
    return this.config.time_limit === undefined ? Infinity : this.createdAt + this.config.time_limit * 1000;
  }

  protected start(ctx: ExecutorContext): boolean {
    if (ctx.now >= this.deadline) {
      this.terminate(ctx.now, 'EXPIRED');
      return false;
    }
    const plan = planGrid(this.config, ctx.market.rules(this.config.connector_name, this.config.trading_pair));
    if ('refusal' in plan) {
      this.endRefused(ctx.now, { code: 'VALIDATION_FAILED', reason: plan.refusal });
      return false;
    }
    this.levels = plan.levels.map(idleLevel);
    return true;
  }

  protected step(ctx: ExecutorContext): void {
    const held = !this.ledger.position.isZero();
    const q = this.quote(ctx.market);
    const keep = this.config.keep_position && held;
    if (q && this.config.limit_price) {
      const limit = new Decimal(this.config.limit_price);
      if (this.long ? q.mid.lt(limit) : q.mid.gt(limit)) return this.beginClose(ctx, 'STOP_LOSS', !keep);
    }
    if (ctx.now >= this.deadline) return this.beginClose(ctx, held ? 'TIME_LIMIT' : 'EXPIRED', !keep);
    if (!q) return;
    this.lastMid = q.mid.toNumber();
    this.cancelOutOfBounds(ctx, q);
    this.levels.forEach((l, i) => {
      if (l.state === 'holding' && this.orders.working('take_profit').every((o) => o.level !== i)) this.placeTakeProfit(ctx, i, q);
    });
    this.openLevels(ctx, q);
  }

  private inBounds(price: Decimal, q: Quote): boolean {
    const b = this.config.activation_bounds;
    return b === undefined || price.minus(q.mid).abs().div(q.mid).lte(frac(b));
  }

  private cancelOutOfBounds(ctx: ExecutorContext, q: Quote): void {
    for (const o of this.orders.working('open')) if (o.filled.isZero() && !this.inBounds(o.price!, q)) this.cancel(ctx, o);
  }

  private openLevels(ctx: ExecutorContext, q: Quote): void {
    if (this.lastBatchAt !== null && ctx.now - this.lastBatchAt < this.config.order_frequency * 1000) return;
    const room = Math.min(this.config.max_open_orders - this.orders.working('open').length, this.config.max_orders_per_batch ?? Infinity);
    if (room <= 0) return;
    const safe = frac(this.config.safe_extra_spread);
    const edge = this.long ? q.mid.times(Decimal.sub(1, safe)) : q.mid.times(Decimal.add(1, safe));
    const candidates = this.levels
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.state === 'idle' && (this.long ? l.price.lte(edge) : l.price.gte(edge)) && this.inBounds(l.price, q))
      .sort((a, b) => a.l.price.minus(q.mid).abs().cmp(b.l.price.minus(q.mid).abs()) || a.i - b.i)
      .slice(0, room);
    if (candidates.length === 0) return;
    this.lastBatchAt = ctx.now;
    for (const { l, i } of candidates) {
      if (this.status !== 'active') return;
      l.state = 'opening';
      this.place(ctx, { role: 'open', level: i, side: this.config.side, type: 'limit_maker', amount: l.amount, price: l.price });
    }
  }

  private placeTakeProfit(ctx: ExecutorContext, i: number, q: Quote | null): void {
    const l = this.levels[i]!;
    const tp = frac(this.config.take_profit);
    const safe = frac(this.config.safe_extra_spread);
    let price = this.long ? l.entry!.times(Decimal.add(1, tp)) : l.entry!.times(Decimal.sub(1, tp));
    if (q) price = this.long ? Decimal.max(price, q.ask.times(Decimal.add(1, safe))) : Decimal.min(price, q.bid.times(Decimal.sub(1, safe)));
    this.place(ctx, { role: 'take_profit', level: i, side: this.long ? 'sell' : 'buy', type: 'limit_maker', amount: l.held, price, positionAction: 'close' });
  }

  protected onOrder(order: TrackedOrder, fills: OrderFill[], ctx: ExecutorContext): void {
    const l = this.levels[order.level]!;
    for (const f of fills) {
      if (order.role === 'open') {
        const cost = l.entry ? l.entry.times(l.held) : new Decimal(0);
        l.held = l.held.plus(f.amount);
        l.entry = cost.plus(f.price.times(f.amount)).div(l.held);
      } else {
        l.held = Decimal.max(l.held.minus(f.amount), 0);
      }
    }
    if (order.state === 'open' || order.state === 'partially_filled') return;
    if (order.role === 'open') {
      if (l.held.gt(0)) {
        l.state = 'holding';
        this.placeTakeProfit(ctx, order.level, this.quote(ctx.market));
      } else if (order.state === 'rejected' || !order.cancelRequested) {
        l.state = 'failed';
        if (this.ledger.openedQuote.isZero()) {
          this.beginClose(ctx, order.state === 'rejected' && order.code === 'INSUFFICIENT_BALANCE' ? 'INSUFFICIENT_BALANCE' : 'FAILED', true);
        }
      } else l.state = 'idle';
    } else if (order.state === 'filled' || l.held.isZero()) {
      // Round trip done (a take profit the venue quantised down leaves its dust in the ledger, not the level): the level may open again.
      l.state = 'idle';
      l.held = new Decimal(0);
      l.entry = null;
      l.takeProfitRejections = 0;
      this.roundTrips += 1;
    } else if (order.state === 'rejected') {
      // A take profit the venue keeps refusing would be sent again every tick: after a few the level is
      // left out, what it holds staying in the grid's position (closed when the grid ends).
      l.takeProfitRejections += 1;
      if (l.takeProfitRejections >= MAX_CLOSE_REJECTIONS) l.state = 'failed';
    }
  }

  /**
   * Quiet while the mid stays above the limit price (below it, short grid), inside the activation bounds
   * of every unfilled opening order, and outside the window in which an idle level would be opened
   * (long: mid ≥ price / (1 − safe_extra_spread), within the bounds); until the deadline, or the next
   * batch time when a level is in its window now. A holding level still without its take profit wants
   * the next tick. The stop edge is exact (the executor's own test at neighbouring doubles); the other
   * edges only let the grid look again, so they sit a hair inside and waking early changes nothing.
   */
  idleBand(): IdleBand | null {
    if (this.status !== 'active' || this.lastMid === null) return null;
    const m = this.lastMid;
    const band: IdleBand = { low: -Infinity, high: Infinity, until: this.deadline };
    const wakeBelow = (x: number) => (band.low = Math.max(band.low, x * (1 + WAKE_MARGIN)));
    const wakeAbove = (x: number) => (band.high = Math.min(band.high, x * (1 - WAKE_MARGIN)));
    if (this.config.limit_price) {
      const limit = new Decimal(this.config.limit_price);
      if (this.long) band.low = edgeBelow(limit, true);
      else band.high = edgeAbove(limit, true);
    }
    const takeProfits = this.orders.working('take_profit');
    for (let i = 0; i < this.levels.length; i++) {
      if (this.levels[i]!.state === 'holding' && takeProfits.every((o) => o.level !== i)) return null;
    }
    const b = this.config.activation_bounds;
    const opening = this.orders.working('open');
    if (b !== undefined) {
      for (const o of opening) {
        if (!o.filled.isZero()) continue;
        const p = o.price!.toNumber();
        wakeBelow(p / (1 + b));
        wakeAbove(p / (1 - b));
      }
    }
    const room = Math.min(this.config.max_open_orders - opening.length, this.config.max_orders_per_batch ?? Infinity);
    if (room <= 0) return band;
    const nextBatch = this.lastBatchAt === null ? -Infinity : this.lastBatchAt + this.config.order_frequency * 1000;
    const safe = this.config.safe_extra_spread;
    for (const l of this.levels) {
      if (l.state !== 'idle') continue;
      const p = l.price.toNumber();
      // The mids at which this level is a candidate: past the safe spread and within the bounds.
      const lo = this.long ? Math.max(p / (1 - safe), b === undefined ? -Infinity : p / (1 + b)) : b === undefined ? -Infinity : p / (1 + b);
      const hi = this.long ? (b === undefined ? Infinity : p / (1 - b)) : Math.min(p / (1 + safe), b === undefined ? Infinity : p / (1 - b));
      if (lo > hi) continue;
      if (m >= lo && m <= hi) {
        // In its window now: it opens at the next batch.
        if (nextBatch === -Infinity) return null;
        band.until = Math.min(band.until, nextBatch);
      } else if (hi < m) wakeBelow(hi);
      else wakeAbove(lo);
    }
    return band;
  }

  protected riskQuote(): Decimal {
    return new Decimal(this.config.total_amount_quote);
  }

  protected custom(_market: MarketView): Record<string, unknown> {
    const count = (s: LevelState) => this.levels.filter((l) => l.state === s).length;
    const n = this.levels.length;
    return {
      levels: this.levels.map((l) => l.price.toString()),
      level_amounts: this.levels.map((l) => l.amount.toString()),
      amount_per_level_quote: n === 0 ? null : new Decimal(this.config.total_amount_quote).div(n).toString(),
      opening_levels: count('opening'),
      holding_levels: count('holding'),
      failed_levels: count('failed'),
      round_trips: this.roundTrips,
    };
  }

  protected ownState(): Record<string, unknown> {
    return {
      levels: this.levels.map((l) => ({ price: l.price.toString(), amount: l.amount.toString(), state: l.state, takeProfitRejections: l.takeProfitRejections, held: l.held.toString(), entry: l.entry?.toString() ?? null })),
      lastBatchAt: this.lastBatchAt,
      roundTrips: this.roundTrips,
    };
  }

  protected loadOwnState(s: Record<string, unknown>): void {
    const saved = s.levels as Array<{ price?: string; amount?: string; state: LevelState; takeProfitRejections?: number; held: string; entry: string | null }>;
    // A state saved before levels were kept has their states only: its levels were laid from the config alone.
    const laid = saved.length > 0 && saved[0]!.price === undefined ? (planGrid(this.config, null) as { levels: GridLevelPlan[] }).levels : null;
    this.levels = saved.map((v, i) => ({
      price: laid ? laid[i]!.price : new Decimal(v.price!),
      amount: laid ? laid[i]!.amount : new Decimal(v.amount!),
      state: v.state,
      takeProfitRejections: v.takeProfitRejections ?? 0,
      held: new Decimal(v.held),
      entry: v.entry === null ? null : new Decimal(v.entry),
    }));
    this.lastBatchAt = s.lastBatchAt as number | null;
    this.roundTrips = s.roundTrips as number;
  }
}

const idleLevel = (l: GridLevelPlan): Level => ({ price: l.price, amount: l.amount, state: 'idle', takeProfitRejections: 0, held: new Decimal(0), entry: null });
