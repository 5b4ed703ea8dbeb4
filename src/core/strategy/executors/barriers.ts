import { cmp, Decimal } from '../../decimal.js';
import { edgeAbove, edgeBelow } from '../price-edge.js';
import type { CloseType, IdleBand, Quote, Side } from '../types.js';

/** Barrier fractions as configs give them (0.02 = 2%), read into Decimal through their shortest string. */
export interface BarrierSpec {
  stopLoss?: number | undefined;
  takeProfit?: number | undefined;
  trailing?: { activation_price: number; trailing_delta: number } | undefined;
}

const fracs = new Map<number, Decimal>();
/** A config fraction as a decimal, parsed once per value (configs hold a handful; decimals are immutable). */
export function frac(n: number): Decimal {
  let d = fracs.get(n);
  if (d === undefined) {
    if (fracs.size >= 4096) fracs.clear();
    d = new Decimal(String(n));
    fracs.set(n, d);
  }
  return d;
}

/** 1 ± f for a config fraction, as priceAtPnl multiplies the entry by it: [long gain, short gain, long loss, short loss]. */
const factors = new Map<number, readonly [Decimal, Decimal, Decimal, Decimal]>();
function pnlFactor(side: Side, n: number, loss: boolean): Decimal {
  let f = factors.get(n);
  if (f === undefined) {
    if (factors.size >= 4096) factors.clear();
    const x = frac(n);
    const neg = x.neg();
    f = [Decimal.add(1, x), Decimal.sub(1, x), Decimal.add(1, neg), Decimal.sub(1, neg)];
    factors.set(n, f);
  }
  return f[(loss ? 2 : 0) + (side === 'buy' ? 0 : 1)]!;
}

/** The price a position is valued at: a long sells at the bid, a short buys back at the ask. */
export function markPrice(q: Quote, positionSide: Side): Decimal {
  return positionSide === 'buy' ? q.bid : q.ask;
}

/** Gross PnL of a position as a fraction of its entry: (price − entry) / entry, sign flipped for a short. */
export function pnlFraction(side: Side, entry: Decimal, price: Decimal): Decimal {
  const move = price.minus(entry).div(entry);
  return side === 'buy' ? move : move.neg();
}

/** The price at which a PnL fraction is reached: entry × (1 ± f). */
export function priceAtPnl(side: Side, entry: Decimal, f: Decimal): Decimal {
  return side === 'buy' ? entry.times(Decimal.add(1, f)) : entry.times(Decimal.sub(1, f));
}

/**
 * A position's barriers as prices, for one entry. PnL ≥ f holds exactly when the price is at or past
 * entry × (1 ± f) on the side the position gains, so every test is a price comparison against a level
 * computed once per entry with multiplications only; a tick never divides (a 60-digit division costs
 * about ten comparisons). The trailing levels follow the trigger, which changes only when it is raised.
 */
export class BarrierLevels {
  readonly stopLoss: Decimal | null;
  readonly takeProfit: Decimal | null;
  /** Where the trailing stop arms. */
  readonly activation: Decimal | null;
  private trailingFor: TrailingTrigger | null = null;
  private trailingLevels: { fire: Decimal; raise: Decimal } | null = null;
  /** entry × trailing delta: how far below a long's peak (above a short's) its trailing stop fires. */
  private trailingGap: Decimal | null = null;

  constructor(
    readonly spec: BarrierSpec,
    readonly side: Side,
    readonly entry: Decimal,
  ) {
    // entry × (1 ± f) as priceAtPnl computes it, with the factor kept per fraction.
    this.stopLoss = spec.stopLoss === undefined ? null : entry.times(pnlFactor(side, spec.stopLoss, true));
    this.takeProfit = spec.takeProfit === undefined ? null : entry.times(pnlFactor(side, spec.takeProfit, false));
    this.activation = spec.trailing ? entry.times(pnlFactor(side, spec.trailing.activation_price, false)) : null;
  }


  /**
   * For an armed trigger: the price that fires it and the one past which it is raised. A trigger set under
   * this entry is its peak price: PnL(price) < PnL(peak) − delta holds exactly when the price is past
   * peak ∓ entry × delta, and a new peak is any price beyond the old one, so no division is needed. One
   * set under an earlier entry (a later fill moved it) keeps its PnL fraction, as the original does.
   */
  trailingAt(trailing: TrailingTrigger): { fire: Decimal; raise: Decimal } {
    if (this.trailingFor !== trailing || this.trailingLevels === null) {
      this.trailingFor = trailing;
      if (trailing.under(this.entry)) {
        const gap = (this.trailingGap ??= this.entry.times(frac(this.spec.trailing!.trailing_delta)));
        const peak = trailing.peak!;
        this.trailingLevels = { fire: this.side === 'buy' ? peak.minus(gap) : peak.plus(gap), raise: peak };
      } else {
        const f = trailing.fraction();
        this.trailingLevels = {
          fire: priceAtPnl(this.side, this.entry, f),
          raise: priceAtPnl(this.side, this.entry, f.plus(frac(this.spec.trailing!.trailing_delta))),
        };
      }
    }
    return this.trailingLevels;
  }

  /**
   * Whether PnL at `price` is at or past the fraction whose price is `level`: in the position's favour
   * (`gains`) or against it; `strict` for > and <.
   */
  reached(price: Decimal, level: Decimal, gains: boolean, strict: boolean): boolean {
    const c = cmp(price, level);
    return gains === (this.side === 'buy') ? (strict ? c > 0 : c >= 0) : strict ? c < 0 : c <= 0;
  }
}

/** A position's barriers as it fills: the levels of its current entry, recomputed only when a fill moves the entry. */
export class EntryBarriers {
  private levels: BarrierLevels | null = null;

  constructor(
    readonly spec: BarrierSpec,
    readonly side: Side,
  ) {}

  /** The levels for `entry` (null before any fill): the same object while the entry stands (the ledger keeps its decimal until a fill). */
  at(entry: Decimal | null): BarrierLevels | null {
    if (entry === null) return null;
    const prev = this.levels;
    if (prev === null || (prev.entry !== entry && cmp(prev.entry, entry) !== 0)) this.levels = new BarrierLevels(this.spec, this.side, entry);
    return this.levels;
  }
}

/**
 * Which barrier the price crosses, if any. The checks run stop loss → trailing stop → take profit and
 * the first that fires wins, so when one price crosses several (a gap through the stop that also drops
 * below an armed trailing trigger) the stop loss is the close type. Within a candle the backtester feeds
 * the path point by point, so the point that crosses first decides, not this order.
 *
 * The trailing stop arms when PnL first reaches the activation fraction, with its trigger at PnL −
 * delta; afterwards a price is tested against the trigger before the trigger is raised, so the point
 * that makes a new peak can never also fire it. `trailing` is the current trigger or null while
 * unarmed; the returned `trailing` is the new one.
 */
export function checkBarriers(levels: BarrierLevels, price: Decimal, trailing: TrailingTrigger | null, takeProfitAtMarket: boolean): { hit: CloseType | null; trailing: TrailingTrigger | null } {
  const { spec } = levels;
  if (levels.stopLoss !== null && levels.reached(price, levels.stopLoss, false, false)) return { hit: 'STOP_LOSS', trailing };
  if (spec.trailing) {
    if (trailing === null) {
      if (levels.reached(price, levels.activation!, true, false)) trailing = trailingTrigger(levels, price);
    } else {
      const t = levels.trailingAt(trailing);
      if (levels.reached(price, t.fire, false, true)) return { hit: 'TRAILING_STOP', trailing };
      if (levels.reached(price, t.raise, true, true)) trailing = trailingTrigger(levels, price);
    }
  }
  if (takeProfitAtMarket && levels.takeProfit !== null && levels.reached(price, levels.takeProfit, true, false)) return { hit: 'TAKE_PROFIT', trailing };
  return { hit: null, trailing };
}

/** The trailing trigger for a new peak at `price`. A function, not a closure in checkBarriers: one is made per call there. */
function trailingTrigger(levels: BarrierLevels, price: Decimal): TrailingTrigger {
  return TrailingTrigger.atPeak(levels.side, levels.spec.trailing!.trailing_delta, price, levels.entry);
}

/** A trailing trigger as a state saves it: its fraction with its peak and entry, or (saved before those were kept) the bare fraction. */
type SavedTrailing = { fraction: string; peak: string | null; entry: string | null } | string;

/**
 * An armed trailing stop's trigger: PnL(peak) − delta, the PnL fraction below which it fires. Kept as
 * the peak price and the entry it was reached under, so ticks compare prices only; the fraction is
 * divided out when a report or a saved state asks for it, or when a fill moves the entry. Immutable:
 * a raise makes a new one, so identity says whether it moved.
 */
export class TrailingTrigger {
  private constructor(
    private readonly side: Side,
    private readonly delta: number,
    /** The peak price and the entry it was reached under; null for a trigger known only as a fraction. */
    readonly peak: Decimal | null,
    private readonly entry: Decimal | null,
    private known: Decimal | null,
  ) {}

  static atPeak(side: Side, delta: number, peak: Decimal, entry: Decimal): TrailingTrigger {
    return new TrailingTrigger(side, delta, peak, entry, null);
  }

  /** Whether the trigger's peak was reached under `entry` (the same decimal, or an equal one). */
  under(entry: Decimal): boolean {
    return this.entry !== null && (this.entry === entry || cmp(this.entry, entry) === 0);
  }

  /** The trigger as a PnL fraction: (peak − entry) / entry, sign flipped for a short, less the delta. */
  fraction(): Decimal {
    return (this.known ??= pnlFraction(this.side, this.entry!, this.peak!).minus(frac(this.delta)));
  }

  /** What a saved state holds: the fraction (as reports show it) and, when known, the peak and its entry. */
  toJSON(): { fraction: string; peak: string | null; entry: string | null } {
    return { fraction: this.fraction().toString(), peak: this.peak?.toString() ?? null, entry: this.entry?.toString() ?? null };
  }

  /** The trigger from a saved state: its peak and entry when saved, else its fraction (a state saved as the bare fraction string). */
  static fromJSON(side: Side, delta: number, s: SavedTrailing): TrailingTrigger {
    if (typeof s === 'string') return new TrailingTrigger(side, delta, null, null, new Decimal(s));
    const known = new Decimal(s.fraction);
    if (s.peak !== null && s.entry !== null) return new TrailingTrigger(side, delta, new Decimal(s.peak), new Decimal(s.entry), known);
    return new TrailingTrigger(side, delta, null, null, known);
  }
}

/** An executor's saved trailing trigger (null while unarmed) under its config's trailing stop. */
export function loadTrailing(trailingStop: { trailing_delta: number } | undefined, side: Side, saved: unknown): TrailingTrigger | null {
  if (saved === null || saved === undefined || !trailingStop) return null;
  return TrailingTrigger.fromJSON(side, trailingStop.trailing_delta, saved as SavedTrailing);
}

/** Barrier prices for a report or a chart: where stop loss, take profit and the armed trailing trigger sit. */
export function barrierPrices(levels: BarrierLevels | null, trailing: TrailingTrigger | null): Record<string, string | null> {
  if (!levels) return { stop_loss_price: null, take_profit_price: null, trailing_stop_price: null };
  return {
    stop_loss_price: levels.stopLoss?.toString() ?? null,
    take_profit_price: levels.takeProfit?.toString() ?? null,
    trailing_stop_price: trailing === null ? null : levels.trailingAt(trailing).fire.toString(),
  };
}

/** Relative distance by which a state-only edge of the band is pulled inside (float error is ~1e-16). */
const WAKE_MARGIN = 1e-12;

/**
 * Narrows `band` to the prices at which checkBarriers would do nothing: from the highest price that
 * would close (stop loss, armed trailing trigger, market take profit, on the side the position loses
 * or gains) to the lowest that would close, arm or raise the trailing stop. A closing edge is the exact
 * double at which the executor's own test changes (see price-edge); an arming or raising edge sits a
 * hair inside.
 */
export function barrierBand(levels: BarrierLevels, trailing: TrailingTrigger | null, takeProfitAtMarket: boolean, band: IdleBand): void {
  // A test about gains holds on the high side for a long (on the low side for a short); one about losses the other way.
  const long = levels.side === 'buy';
  if (levels.stopLoss !== null) closeAt(band, levels.stopLoss, !long, false);
  if (levels.spec.trailing) {
    if (trailing === null) wakeAt(band, levels.activation!, long);
    else {
      const t = levels.trailingAt(trailing);
      closeAt(band, t.fire, !long, true);
      wakeAt(band, t.raise, long);
    }
  }
  if (takeProfitAtMarket && levels.takeProfit !== null) closeAt(band, levels.takeProfit, long, false);
}

/**
 * Where the executor closes: the exact double at which its own test (BarrierLevels.reached) fires, so a
 * backtest stopping at the edge fills at the barrier price.
 */
function closeAt(band: IdleBand, level: Decimal, onHigh: boolean, strict: boolean): void {
  if (onHigh) band.high = Math.min(band.high, edgeAbove(level, strict));
  else band.low = Math.max(band.low, edgeBelow(level, strict));
}

/**
 * Where it only moves state (arms or raises the trailing stop): a number a hair inside the band will do,
 * since waking early costs one tick and changes nothing.
 */
function wakeAt(band: IdleBand, level: Decimal, onHigh: boolean): void {
  const price = level.toNumber();
  if (onHigh) band.high = Math.min(band.high, price * (1 - WAKE_MARGIN));
  else band.low = Math.max(band.low, price * (1 + WAKE_MARGIN));
}
