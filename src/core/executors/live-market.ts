import type { Clock } from '../clock.js';
import { Decimal } from '../decimal.js';
import { INTERVAL_MS, type CandleInterval, type CandleRow, type TradingRules } from '../exchange/types.js';
import type { MarketView, Quote } from '../strategy/types.js';

/**
 * Where a LiveMarketView reads: the server's MarketData, or in a bot process the server over RPC
 * (src/bot/server-rpc.ts). Prices may come as numbers (the wire's JSON) or strings; the view turns them
 * into decimals from their text, never through arithmetic.
 */
export interface MarketSource {
  orderBook(connector: string, pair: string, depth: number): Promise<{ bids: ReadonlyArray<{ price: number | string }>; asks: ReadonlyArray<{ price: number | string }> }>;
  /** Oldest first; `since`/`until` in ms, at most `limit` rows. */
  candles(connector: string, pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]>;
  /** The market's order rules; null when the connector does not list the pair. */
  rules(connector: string, pair: string): Promise<TradingRules | null>;
}

const key = (connector: string, pair: string) => `${connector}|${pair}`;
/** Candles kept per series unless more are asked for: more than any executor asks for, few enough to load every tick. */
const CANDLE_WINDOW = 300;
/** How long a market's rules are kept before they are read again (exchanges change them rarely). */
const RULES_TTL_MS = 3_600_000;

/**
 * A MarketView over a market source (the server's market data, or the server's over RPC), loaded before a tick (the view itself is synchronous).
 * It holds the quote of every pair it was told to watch and the candle series an executor asked for:
 * a series first asked for during a tick is loaded for the next one, so an executor that reads candles
 * sees an empty series once and the real one after (closed candles only, as in a backtest; live exchanges' through the candle cache).
 */
export class LiveMarketView implements MarketView {
  readonly #quotes = new Map<string, Quote | null>();
  readonly #candles = new Map<string, CandleRow[]>();
  readonly #wanted = new Map<string, { connector: string; pair: string; interval: CandleInterval; bars: number }>();
  readonly #rules = new Map<string, { rules: TradingRules | null; at: number }>();
  #now = 0;

  constructor(
    private readonly marketData: MarketSource,
    private readonly clock: Clock,
  ) {}

  get now(): number {
    return this.#now;
  }

  /** Reads the quotes of `pairs` and every candle series asked for so far, as of the clock's now. */
  async load(pairs: ReadonlyArray<{ connector: string; pair: string }>): Promise<void> {
    this.#now = this.clock.now();
    await Promise.all([
      ...pairs.map(async ({ connector, pair }) => this.#quotes.set(key(connector, pair), await this.#quote(connector, pair))),
      ...pairs.map(async ({ connector, pair }) => {
        const k = key(connector, pair);
        const kept = this.#rules.get(k);
        if (kept && this.#now - kept.at < RULES_TTL_MS) return;
        try {
          this.#rules.set(k, { rules: await this.marketData.rules(connector, pair), at: this.#now });
        } catch (err) {
          // Never read: the load fails, so no grid is laid without them (the cycle's error says why, and the next load tries again).
          if (!kept) throw err;
          // Read before: those are kept and read again next load.
        }
      }),
      ...[...this.#wanted].map(async ([k, w]) => {
        // One more than wanted: the newest row may be the candle still open.
        const rows = await this.marketData.candles(w.connector, w.pair, w.interval, { since: this.#now - w.bars * INTERVAL_MS[w.interval], until: this.#now, limit: w.bars + 1 });
        this.#candles.set(k, rows.filter((c) => c.timestamp + INTERVAL_MS[w.interval] <= this.#now));
      }),
    ]);
  }

  async #quote(connector: string, pair: string): Promise<Quote | null> {
    const book = await this.marketData.orderBook(connector, pair, 1);
    const bid = book.bids[0]?.price;
    const ask = book.asks[0]?.price;
    if (bid === undefined || ask === undefined) return null;
    const b = new Decimal(String(bid));
    const a = new Decimal(String(ask));
    return { bid: b, ask: a, mid: b.plus(a).div(2) };
  }

  quote(connector: string, tradingPair: string): Quote | null {
    return this.#quotes.get(key(connector, tradingPair)) ?? null;
  }

  rules(connector: string, tradingPair: string): TradingRules | null {
    return this.#rules.get(key(connector, tradingPair))?.rules ?? null;
  }

  /**
   * Loads a candle series from the next `load` on, before anyone reads it (a controller's declared
   * needs), with at least `bars` closed candles when the series has that many.
   */
  watch(connector: string, tradingPair: string, interval: CandleInterval, bars = CANDLE_WINDOW): string {
    const k = `${key(connector, tradingPair)}|${interval}`;
    const w = this.#wanted.get(k);
    if (!w) this.#wanted.set(k, { connector, pair: tradingPair, interval, bars: Math.max(bars, CANDLE_WINDOW) });
    else if (bars > w.bars) w.bars = bars;
    return k;
  }

  candles(connector: string, tradingPair: string, interval: CandleInterval, limit = CANDLE_WINDOW): readonly CandleRow[] {
    const rows = this.#candles.get(this.watch(connector, tradingPair, interval)) ?? [];
    return rows.slice(Math.max(0, rows.length - limit));
  }
}
