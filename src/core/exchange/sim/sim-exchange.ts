import { AppError } from '../../errors.js';
import { systemClock, type Clock } from '../../clock.js';
import { INTERVAL_MS, type CandleInterval, type CandleRow, type OrderBook, type PublicTrade, type Ticker } from '../types.js';
import { syntheticBook, syntheticTrades, type BookShape } from './book.js';
import { SIM_LISTINGS, type SimListing } from './markets.js';
import { MINUTE_MS, PriceModel, SIM_EPOCH_MS, type Candle } from './price-model.js';

/** Perpetuals trade at a small, slowly oscillating premium to spot. */
const BASIS_AMPLITUDE = 0.0004;
const BASIS_PERIOD_MS = 8 * 3_600_000;

interface SimMarket {
  listing: SimListing;
  model: PriceModel;
  shape: BookShape;
  key: string;
}

const decimals = (inc: string) => (inc.includes('.') ? inc.split('.')[1]!.length : 0);

/** 10^0 … 10^22, each exact in a double. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** Below this, v × 10^places is within 2.4e-7 of its exact value (half an ulp), far inside the tie margin. */
const FAST_LIMIT = 2 ** 31;

/**
 * `v` rounded to `places` decimals, the number Number(v.toFixed(places)) gives, for a fraction of its
 * cost (a year of candles rounds 2.6 million numbers). toFixed takes the integer k nearest v·10^places
 * (the larger on a tie) and the string parses to the double nearest k / 10^places, which is what the
 * division k / 10^places gives (both exact doubles, one correctly rounded division). When v·10^places
 * is clear of a tie by 1e-6, its rounding error cannot move k, so Math.round finds the same k; near a
 * tie, and for negatives or large values, toFixed itself decides.
 */
export function roundToPlaces(v: number, places: number): number {
  const p = POW10[places];
  if (p !== undefined && v > 0) {
    const x = v * p;
    if (x < FAST_LIMIT && Math.abs(x - Math.floor(x) - 0.5) > 1e-6) return Math.round(x) / p;
  }
  return Number(v.toFixed(places));
}

/**
 * The built-in exchange's market data: one price model per BASE-QUOTE shared by the spot and perpetual
 * markets, books and trades synthesised around it, at the injected clock's time (tests pin it).
 */
export class SimExchange {
  readonly #markets = new Map<string, SimMarket>();

  constructor(
    readonly seed = 'sim',
    private readonly clock: Clock = systemClock,
  ) {
    const models = new Map<string, PriceModel>();
    for (const l of SIM_LISTINGS) {
      const pair = `${l.base}-${l.quote}`;
      let model = models.get(pair);
      if (!model) {
        model = new PriceModel(seed, pair, l.start_price, l.volatility, l.level_notional / l.start_price);
        models.set(pair, model);
      }
      const key = `${l.market_type}/${pair}`;
      this.#markets.set(key, { listing: l, model, key, shape: { tick: Number(l.tick), step: Number(l.step), levelNotional: l.level_notional } });
    }
  }

  market(type: 'spot' | 'perpetual', pair: string): SimMarket {
    const m = this.#markets.get(`${type}/${pair}`);
    if (!m) {
      const listed = [...this.#markets.values()].filter((x) => x.listing.market_type === type).map((x) => `${x.listing.base}-${x.listing.quote}`);
      throw new AppError('NOT_FOUND', `sim${type === 'perpetual' ? '_perpetual' : ''} does not list ${pair}.`, { hint: `Its pairs: ${listed.join(', ')}.`, details: { trading_pair: pair } });
    }
    return m;
  }

  #basis(m: SimMarket, t: number): number {
    return m.listing.market_type === 'perpetual' ? 1 + BASIS_AMPLITUDE * Math.sin((2 * Math.PI * t) / BASIS_PERIOD_MS) : 1;
  }

  #round(v: number, inc: string): number {
    let places = this.#places.get(inc);
    if (places === undefined) this.#places.set(inc, (places = decimals(inc)));
    return roundToPlaces(v, places);
  }

  /** Decimal places of each tick and step string seen (a handful). */
  readonly #places = new Map<string, number>();

  /** Mid price now (or at `t`), unrounded. */
  mid(m: SimMarket, t = this.clock.now()): number {
    return m.model.priceAt(t) * this.#basis(m, t);
  }

  orderBook(m: SimMarket, depth: number, t = this.clock.now()): OrderBook {
    const second = Math.floor(t / 1000);
    // A book is the same for a whole second: every order, quote and valuation in that second reads the
    // last one built (frozen, so no reader can change it for the next) instead of building it again.
    const hit = this.#books.get(m.key);
    if (hit && hit.second === second && hit.depth >= depth) {
      return hit.depth === depth ? hit.book : { ...hit.book, bids: hit.book.bids.slice(0, depth), asks: hit.book.asks.slice(0, depth) };
    }
    const mid = this.mid(m, second * 1000);
    const regime = m.model.regimeOf(Math.floor((t - SIM_EPOCH_MS) / 86_400_000));
    const snap = syntheticBook(m.key, mid, second, regime, m.shape, depth);
    const book: OrderBook = Object.freeze({ trading_pair: `${m.listing.base}-${m.listing.quote}`, timestamp: snap.timestamp, bids: freezeLevels(snap.bids), asks: freezeLevels(snap.asks) });
    if (!hit || hit.second !== second || hit.depth < depth) this.#books.set(m.key, { second, depth, book });
    return book;
  }

  /** The last book built per market, with its second and depth. */
  readonly #books = new Map<string, { second: number; depth: number; book: OrderBook }>();

  ticker(m: SimMarket): Ticker {
    const t = this.clock.now();
    const book = this.orderBook(m, 1, t);
    const day = this.#candle(m, t - 86_400_000, 86_400_000, t);
    const last = this.#round(this.mid(m, t), m.listing.tick);
    return {
      trading_pair: book.trading_pair,
      timestamp: t,
      last,
      bid: book.bids[0]?.price ?? null,
      ask: book.asks[0]?.price ?? null,
      high_24h: this.#round(day.high, m.listing.tick),
      low_24h: this.#round(day.low, m.listing.tick),
      volume_24h: this.#round(day.volume, m.listing.step),
      change_24h_pct: Number((((last - day.open) / day.open) * 100).toFixed(4)),
    };
  }

  /** A candle that never looks past `now`: an interval still in progress closes at the current price. */
  #candle(m: SimMarket, start: number, intervalMs: number, now: number): Candle {
    const startMin = Math.floor((start - SIM_EPOCH_MS) / MINUTE_MS) * MINUTE_MS + SIM_EPOCH_MS;
    const end = Math.min(startMin + intervalMs, now);
    const fullMinutes = Math.floor((end - startMin) / MINUTE_MS);
    const b = this.#basis(m, start);
    let c: Candle | undefined;
    if (fullMinutes > 0) {
      const raw = m.model.candle(startMin, fullMinutes * MINUTE_MS);
      c = { open: raw.open * b, high: raw.high * b, low: raw.low * b, close: raw.close * b, volume: raw.volume };
    }
    const partialStart = startMin + fullMinutes * MINUTE_MS;
    if (partialStart < end) {
      const minute = m.model.minuteCandle(Math.floor((partialStart - SIM_EPOCH_MS) / MINUTE_MS));
      const px = this.mid(m, end);
      const open = minute.open * b;
      const frac = (end - partialStart) / MINUTE_MS;
      if (!c) c = { open, high: Math.max(open, px), low: Math.min(open, px), close: px, volume: 0 };
      c.high = Math.max(c.high, px, open);
      c.low = Math.min(c.low, px, open);
      c.close = px;
      c.volume += minute.volume * frac;
    }
    return c ?? { open: this.mid(m, now), high: this.mid(m, now), low: this.mid(m, now), close: this.mid(m, now), volume: 0 };
  }

  candles(m: SimMarket, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): CandleRow[] {
    const now = this.clock.now();
    const step = INTERVAL_MS[interval];
    const until = Math.min(opts.until ?? now, now);
    let first: number;
    if (opts.since !== undefined) first = Math.ceil(Math.max(opts.since, SIM_EPOCH_MS) / step) * step;
    else first = Math.floor(until / step) * step - (opts.limit - 1) * step;
    first = Math.max(first, Math.ceil(SIM_EPOCH_MS / step) * step);
    const rows: CandleRow[] = [];
    for (let t = first; t <= until && rows.length < opts.limit; t += step) {
      const c = this.#candle(m, t, step, now);
      rows.push({
        timestamp: t,
        open: this.#round(c.open, m.listing.tick),
        high: this.#round(c.high, m.listing.tick),
        low: this.#round(c.low, m.listing.tick),
        close: this.#round(c.close, m.listing.tick),
        volume: this.#round(c.volume, m.listing.step),
      });
    }
    return rows;
  }

  trades(m: SimMarket, limit: number): PublicTrade[] {
    const now = this.clock.now();
    const out: PublicTrade[] = [];
    for (let s = Math.floor(now / 1000); out.length < limit && s > Math.floor(now / 1000) - 900; s--) {
      const book = this.orderBook(m, 1, s * 1000);
      const trades = syntheticTrades(m.key, s, { bids: book.bids, asks: book.asks, timestamp: book.timestamp }, m.shape);
      for (const tr of trades.reverse()) {
        if (tr.timestamp > now) continue;
        out.push({ trade_id: tr.id, timestamp: tr.timestamp, side: tr.side, price: tr.price, amount: tr.amount });
      }
    }
    return out.slice(0, limit).reverse();
  }
}

function freezeLevels<L extends object>(levels: L[]): L[] {
  for (const l of levels) Object.freeze(l);
  return Object.freeze(levels) as L[];
}
