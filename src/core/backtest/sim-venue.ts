import { cmp, Decimal, decimalOfNumber } from '../decimal.js';
import { AppError } from '../errors.js';
import type { Market, MarketType } from '../exchange/types.js';
import { feeOn, q18 } from '../trading/matching/fees.js';
import { applyRulesValued } from '../trading/matching/quantize.js';
import type { OrderFill, OrderRequest, OrderSink, OrderState, OrderUpdate } from '../strategy/types.js';
import { type EquityTrack, spotPnl } from './equity-track.js';
import { PerpLedger } from './perp-ledger.js';
import { SeenIds } from '../strategy/seen-ids.js';
import { RunningSum } from '../running-sum.js';

/** The traded market as a backtest needs it; without market_type it is spot. */
export type BacktestMarket = Pick<Market, 'trading_pair' | 'base' | 'quote' | 'rules'> & { market_type?: MarketType };

/**
 * A backtest's exchange: an in-memory ledger (base and quote, each with a locked part; on a perpetual
 * market quote collateral and a PerpLedger of long and short positions) and a matcher that trades at
 * the current point of the candle path. It never reads a clock: the engine moves it from point to point
 * with `setPoint`.
 *
 * - A market order fills at once, in full, at the path price made worse by `slippageBps`, as taker.
 * - A limit order that would cross the current price fills at once as taker at the better of its limit
 *   and the slipped price; otherwise it rests, holding back quote (buy: notional + maker fee) or base
 *   (sell), and fills in full at its limit price, as maker, at the first path point at or through it.
 * - A limit_maker order that would cross is rejected; it never takes. One at exactly the path price
 *   rests (the touch of a book whose bid and ask are that price).
 * - An order the balance cannot pay is rejected with code INSUFFICIENT_BALANCE; one the market's rules
 *   refuse (size below the minimum, notional too small) with the rules' code.
 * - Perpetual: an open needs margin (notional / leverage) plus its fee out of the free collateral
 *   (balance + unrealised PnL − margin held − what resting opens hold back); fees and realised PnL
 *   settle in quote and base is never touched. A close needs no margin and is refused when it exceeds
 *   its side's position; a resting close that would exceed it by the time it is reached is cancelled.
 * Amounts are floored to the market's step and limit prices moved to its tick, as the paper engine does.
 * Every change reaches `onUpdate` synchronously, cumulative as OrderUpdate says.
 */

export interface VenueOptions {
  connector: string;
  /** The traded market: pair, assets and the rules orders are quantised and checked against. */
  market: BacktestMarket;
  makerFee: Decimal;
  takerFee: Decimal;
  slippageBps: number;
  balances: { base: Decimal; quote: Decimal };
  onUpdate(update: OrderUpdate): void;
  /** Each fill with the order it belongs to and its notional (amount × price), before the order's update is sent. */
  onFill?(order: OrderRequest, fill: OrderFill, notional: Decimal): void;
}

/**
 * One asset's balance as its start and its exact change since: the change is small against the balance,
 * so fills add to it in the short form (a RunningSum), and the total is summed only when read.
 */
export class AssetBalance {
  private readonly sum = new RunningSum();
  locked: Decimal = ZERO;
  /**
   * `locked` as a number, kept with it (and the change's number, changeNum): a balance check that is
   * clear by far needs no exact arithmetic, and the per-candle PnL is marked from the changes.
   */
  lockedNum = 0;
  readonly startNum: number;
  private total_: Decimal;
  private totalOf: Decimal = ZERO;

  constructor(readonly start: Decimal) {
    this.startNum = start.toNumber();
    this.total_ = start;
  }

  /** The exact change since the start. */
  get change(): Decimal {
    return this.sum.value;
  }

  /** The change as a double within an ulp or so of it (the checks leave far more room than that). */
  get changeNum(): number {
    return this.sum.number;
  }

  /** start + change, exact (summed again only after a change). */
  get total(): Decimal {
    const change = this.sum.value;
    if (this.totalOf !== change) {
      this.total_ = this.start.plus(change);
      this.totalOf = change;
    }
    return this.total_;
  }

  /** The total as a number, within an ulp or two of the exact one (for the clear-by-far checks). */
  get totalNum(): number {
    return this.startNum + this.sum.number;
  }

  add(delta: Decimal): void {
    this.sum.add(delta);
  }

  subtract(delta: Decimal): void {
    this.sum.subtract(delta);
  }
}

/**
 * Relative margin by which a balance check on numbers must clear before its exact test is skipped. Each
 * number is within an ulp of its decimal (about 1e-16 relative), so 1e-9 leaves room to spare.
 */
const CLEAR_MARGIN = 1e-9;

interface Resting {
  req: OrderRequest;
  buy: boolean;
  amount: Decimal;
  price: Decimal;
  /** amount × price, what its fill is worth. */
  notional: Decimal;
  /** The limit as a number, so a path point is tested without Decimal arithmetic. */
  priceNum: number;
  /** What the order holds back: quote for a buy, base for a sell. */
  reserved: Decimal;
}

const ZERO = new Decimal(0);

export class SimVenue implements OrderSink {
  readonly base: AssetBalance;
  readonly quote: AssetBalance;
  private now = 0;
  private priceNum = Number.NaN;
  private priceDec: Decimal | null = null;
  private readonly resting: Resting[] = [];
  /** Every order id ever submitted: a reused id is refused as the live venues refuse it. */
  private readonly seen = new SeenIds();
  /** Highest resting buy limit and lowest resting sell limit: a point between them fills nothing. */
  private maxBuy = -Infinity;
  private minSell = Infinity;
  private readonly slipUp: Decimal;
  private readonly slipDown: Decimal;
  private readonly fullMarket: Market;
  /** Positions, on a perpetual market; null on spot. */
  readonly perp: PerpLedger | null;
  private fills = 0;

  constructor(private readonly o: VenueOptions) {
    this.base = new AssetBalance(o.balances.base);
    this.quote = new AssetBalance(o.balances.quote);
    const slip = new Decimal(o.slippageBps).div(10_000);
    this.slipUp = new Decimal(1).plus(slip);
    this.slipDown = new Decimal(1).minus(slip);
    this.fullMarket = { market_type: 'spot', ...o.market, active: true };
    this.perp = this.fullMarket.market_type === 'perpetual' ? new PerpLedger() : null;
  }

  /** PnL in quote since the start, marked at `price`: balance changes plus, on a perpetual, open positions. */
  pnl(price: Decimal): Decimal {
    const q = this.quote.change;
    if (this.perp) return q.plus(this.perp.unrealized(price));
    return q.plus(this.base.change.times(price));
  }

  /** The same as a number, for the per-candle series. */
  pnlNum(price: number): number {
    const q = this.quote.changeNum;
    return this.perp ? q + this.perp.unrealizedNum(price) : spotPnl(q, this.base.changeNum, price);
  }

  /** Net base the strategy holds (spot: base bought minus sold; perpetual: long minus short), as a number. */
  positionNum(): number {
    return this.perp ? this.perp.netNum() : this.base.changeNum;
  }

  /** Fills booked so far: what the quote and base (or positions) are changes only when this does. */
  get fillCount(): number {
    return this.fills;
  }

  /** Records the state pnlNum and positionNum read in `track`, as the state from candle `j` on. */
  markInto(track: EquityTrack, j: number): void {
    const q = this.quote.changeNum;
    if (this.perp) this.perp.markInto(track, j, q);
    else track.markSpot(j, q, this.base.changeNum);
  }

  get restingCount(): number {
    return this.resting.length;
  }

  /** The current path price, as a decimal from its shortest form (what the candle said). */
  price(): Decimal {
    if (this.priceDec === null) this.priceDec = decimalOfNumber(this.priceNum);
    return this.priceDec;
  }

  /**
   * The resting limit price nearest `from` strictly between `from` and `to` that a move from one to the
   * other reaches (a buy's on the way down, a sell's on the way up), or NaN: the engine stops there so
   * the order fills at its price and its owner acts on the fill before the price moves on. `best`, an
   * edge found elsewhere, is kept unless a limit here is nearer.
   */
  nextEdge(from: number, to: number, best = Number.NaN): number {
    if (to < from) {
      if (this.maxBuy <= to) return best;
      for (const r of this.resting) if (r.buy && r.priceNum < from && r.priceNum > to && !(best >= r.priceNum)) best = r.priceNum;
    } else if (to > from) {
      if (this.minSell >= to) return best;
      for (const r of this.resting) if (!r.buy && r.priceNum > from && r.priceNum < to && !(best <= r.priceNum)) best = r.priceNum;
    }
    return best;
  }

  /** nextEdge over `io` = [from, to, best], into io[2] (see StrategyRuntime.edgeInto). */
  edgeInto(io: Float64Array): void {
    io[2] = this.nextEdge(io[0]!, io[1]!, io[2]!);
  }

  /** Moves to a path point and fills the resting orders it reaches, oldest first. */
  setPoint(time: number, price: number): void {
    this.now = time;
    if (price !== this.priceNum) {
      this.priceNum = price;
      this.priceDec = null;
    }
    if (price > this.maxBuy && price < this.minSell) return;
    this.fillReached(price);
  }

  /** Fills the resting orders `price` reaches (apart from setPoint, which the engine's loop inlines and most points end early). */
  private fillReached(price: number): void {
    let filledAny = false;
    for (let i = 0; i < this.resting.length; i++) {
      const r = this.resting[i]!;
      if (r.buy ? price > r.priceNum : price < r.priceNum) continue;
      this.resting.splice(i--, 1);
      filledAny = true;
      this.unlock(this.reserveAsset(r.buy), r.reserved);
      const refusal = this.perp?.closeRefusal(r.req, r.amount);
      if (refusal) this.update(r.req, 'canceled', ZERO, null, ZERO, [], refusal);
      else this.book(r.req, r.amount, r.price, r.notional, feeOn(r.notional, this.o.makerFee), true);
    }
    if (filledAny) this.bounds();
  }

  submit(req: OrderRequest): void {
    if (!this.seen.add(req.clientOrderId)) return this.reject(req, 'DUPLICATE_ORDER', `Order id ${req.clientOrderId} was used before.`);
    if (req.connector !== this.o.connector || req.tradingPair !== this.o.market.trading_pair) {
      return this.reject(req, 'NOT_SUPPORTED', `This backtest trades ${this.o.market.trading_pair} on ${this.o.connector} only.`);
    }
    if (Number.isNaN(this.priceNum)) return this.reject(req, 'PRECONDITION_FAILED', 'No price yet: the backtest has not reached its first candle.');
    const buy = req.side === 'buy';
    const mark = this.price();
    let amount: Decimal;
    let limit: Decimal | null;
    // amount × (limit, or the mark for a market order), as the rules checked it.
    let notional: Decimal;
    try {
      ({ amount, price: limit, notional } = applyRulesValued(this.fullMarket, req.side, req.amount, req.type === 'market' ? null : (req.price ?? mark), mark));
    } catch (e) {
      if (e instanceof AppError) return this.reject(req, e.code, e.message);
      throw e;
    }
    const refusal = this.perp?.closeRefusal(req, amount);
    if (refusal) return this.reject(req, 'VALIDATION_FAILED', refusal);
    if (limit === null) {
      const price = this.slipped(mark, buy);
      return this.take(req, amount, price, price === mark ? notional : amount.times(price));
    }
    // The path price is both bid and ask: a limit at it takes, except a limit_maker, which rests there as
    // it would at the touch of a real book (and fills, as maker, at the next point at or through it).
    const maker = req.type === 'limit_maker';
    const c = cmp(limit, mark);
    const crosses = buy ? (maker ? c > 0 : c >= 0) : maker ? c < 0 : c <= 0;
    if (crosses) {
      if (maker) {
        return this.reject(req, 'UPSTREAM_REJECTED', `A limit_maker ${req.side} at ${limit} would take liquidity at ${mark}.`);
      }
      const price = buy ? Decimal.min(limit, this.slipped(mark, true)) : Decimal.max(limit, this.slipped(mark, false));
      return this.take(req, amount, price, amount.times(price));
    }
    const reserved = this.reserveFor(req, amount, notional);
    const asset = this.reserveAsset(buy);
    if (this.perp ? cmp(reserved, this.free(asset)) > 0 : this.exceedsFree(asset, reserved)) {
      return this.insufficient(req, asset === this.quote ? this.o.market.quote : this.o.market.base, reserved, this.free(asset));
    }
    asset.locked = asset.locked.plus(reserved);
    asset.lockedNum = asset.locked.toNumber();
    this.resting.push({ req, buy, amount, price: limit, notional, priceNum: limit.toNumber(), reserved });
    this.bounds();
    this.o.onUpdate({ clientOrderId: req.clientOrderId, state: 'open', filled: ZERO, averagePrice: null, fees: ZERO, newFills: [], timestamp: this.now });
  }

  cancel(_connector: string, _tradingPair: string, clientOrderId: string): void {
    const i = this.resting.findIndex((r) => r.req.clientOrderId === clientOrderId);
    if (i < 0) return;
    const [r] = this.resting.splice(i, 1) as [Resting];
    this.unlock(this.reserveAsset(r.buy), r.reserved);
    this.bounds();
    this.update(r.req, 'canceled', ZERO, null, ZERO, []);
  }

  /** The price a taker gets: the mark made worse by the slippage (the mark itself without any, as × 1 would give). */
  private slipped(mark: Decimal, buy: boolean): Decimal {
    if (this.o.slippageBps === 0) return mark;
    return mark.times(buy ? this.slipUp : this.slipDown);
  }

  /** What a resting order holds back: spot buy quote (notional + maker fee), spot sell base, perpetual open margin + fee, close nothing. */
  private reserveFor(req: OrderRequest, amount: Decimal, notional: Decimal): Decimal {
    if (this.perp) return req.positionAction === 'close' ? ZERO : q18(notional.div(this.perp.leverageFor(req))).plus(feeOn(notional, this.o.makerFee));
    return req.side === 'buy' ? notional.plus(feeOn(notional, this.o.makerFee)) : amount;
  }

  /** Where a resting order's reserve sits: quote, except a spot sell's base. */
  private reserveAsset(buy: boolean): AssetBalance {
    return buy || this.perp ? this.quote : this.base;
  }

  private unlock(asset: AssetBalance, reserved: Decimal): void {
    asset.locked = asset.locked.minus(reserved);
    asset.lockedNum = asset.locked.toNumber();
  }

  /**
   * Whether `need` exceeds what is free of a spot asset. When the numbers clear it by far the answer is
   * no without exact arithmetic (the quote balance is a wide decimal, each subtraction a BigInt one).
   */
  private exceedsFree(asset: AssetBalance, need: Decimal): boolean {
    const freeNum = asset.totalNum - asset.lockedNum;
    const needNum = need.toNumber();
    if (freeNum - needNum > CLEAR_MARGIN * (Math.abs(asset.totalNum) + Math.abs(asset.lockedNum) + Math.abs(needNum))) return false;
    return cmp(need, asset.total.minus(asset.locked)) > 0;
  }

  /** What is free of an asset; on a perpetual, quote plus unrealised PnL less the margin held. */
  private free(asset: AssetBalance): Decimal {
    const free = asset.total.minus(asset.locked);
    return this.perp ? free.plus(this.perp.unrealized(this.price())).minus(this.perp.margin()) : free;
  }

  /** A taker fill of `amount` at `price`; `notional` is amount × price. */
  private take(req: OrderRequest, amount: Decimal, price: Decimal, notional: Decimal): void {
    const fee = feeOn(notional, this.o.takerFee);
    if (this.perp) {
      if (req.positionAction !== 'close') {
        const need = q18(notional.div(this.perp.leverageFor(req))).plus(fee);
        const free = this.free(this.quote);
        if (cmp(need, free) > 0) return this.insufficient(req, `${this.o.market.quote} margin`, need, free);
      }
    } else if (req.side === 'buy') {
      const need = notional.plus(fee);
      if (this.exceedsFree(this.quote, need)) return this.insufficient(req, this.o.market.quote, need, this.quote.total.minus(this.quote.locked));
    } else if (this.exceedsFree(this.base, amount)) {
      return this.insufficient(req, this.o.market.base, amount, this.base.total.minus(this.base.locked));
    }
    this.book(req, amount, price, notional, fee, false);
  }

  /** Books one full fill: the fee is charged in quote, on top of a buy and out of a sell's proceeds. */
  private book(req: OrderRequest, amount: Decimal, price: Decimal, notional: Decimal, fee: Decimal, isMaker: boolean): void {
    if (this.perp) {
      this.quote.add(this.perp.fill(req, amount, price).minus(fee));
    } else if (req.side === 'buy') {
      this.base.add(amount);
      this.quote.subtract(notional.plus(fee));
    } else {
      this.base.subtract(amount);
      this.quote.add(notional.minus(fee));
    }
    this.fills++;
    const f: OrderFill = { price, amount, fee, isMaker, timestamp: this.now, notional };
    this.o.onFill?.(req, f, notional);
    this.update(req, 'filled', amount, price, fee, [f]);
  }

  private insufficient(req: OrderRequest, asset: string, need: Decimal, free: Decimal): void {
    this.reject(req, 'INSUFFICIENT_BALANCE', `Insufficient ${asset}: the order needs ${need} and ${free} is free.`);
  }

  private reject(req: OrderRequest, code: string, reason: string): void {
    this.o.onUpdate({ clientOrderId: req.clientOrderId, state: 'rejected', filled: ZERO, averagePrice: null, fees: ZERO, newFills: [], reason, code, timestamp: this.now });
  }

  private update(req: OrderRequest, state: OrderState, filled: Decimal, averagePrice: Decimal | null, fees: Decimal, newFills: OrderFill[], reason?: string): void {
    const u: OrderUpdate = { clientOrderId: req.clientOrderId, state, filled, averagePrice, fees, newFills, timestamp: this.now };
    if (reason) u.reason = reason;
    this.o.onUpdate(u);
  }

  private bounds(): void {
    this.maxBuy = -Infinity;
    this.minSell = Infinity;
    for (const r of this.resting) {
      if (r.buy) this.maxBuy = Math.max(this.maxBuy, r.priceNum);
      else this.minSell = Math.min(this.minSell, r.priceNum);
    }
  }
}

