import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import type { CandleRow } from '../../exchange/types.js';
import { defineController } from '../controller.js';
import { Macd, Natr, Sma, Stdev } from '../indicators/index.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { CandleFeed } from './base/candle-feed.js';
import { candleFields, candlesMarket } from './base/fields.js';
import { checkLevels, LevelLadder, marketMakingFields, type ReferencePrice } from './base/market-making.js';
import { num } from './base/signal.js';

/**
 * MACD values the z-score of MACD is taken over. The original standardises MACD over the candles it
 * loads (its longest length + 100), which leaves about 100 defined MACD values; a rolling window of
 * 100 keeps that scale without recomputing anything.
 */
export const MACD_ZSCORE_WINDOW = 100;

const Period = z.number().int().min(1).max(5000);

const PmmDynamicConfig = z
  .object({
    ...marketMakingFields({
      schema: z.number().finite().min(0).max(1000),
      default: [1, 2, 4],
      unit: 'in multiples of the NATR (1 = one average candle range)',
    }),
    ...candleFields('3m'),
    macd_fast: Period.default(21).describe('MACD fast EMA length.'),
    macd_slow: Period.default(42).describe('MACD slow EMA length; longer than macd_fast.'),
    macd_signal: Period.default(9).describe('MACD signal EMA length.'),
    natr_length: Period.default(14).describe('NATR length (candles); the NATR scales the spreads.'),
  })
  .strict()
  .superRefine(checkLevels)
  .refine((c) => c.macd_fast < c.macd_slow, { message: 'macd_fast must be shorter than macd_slow', path: ['macd_fast'] });
type PmmDynamicConfig = z.infer<typeof PmmDynamicConfig>;

/** Closes until NATR, the MACD histogram and a full z-score window of MACD values are all defined. */
const warmup = (c: PmmDynamicConfig) => Math.max(c.natr_length, c.macd_slow + c.macd_signal - 1, c.macd_slow + MACD_ZSCORE_WINDOW - 1);

export const pmmDynamic = defineController({
  name: 'pmm_dynamic',
  type: 'market_making',
  description:
    'Market making that adapts to volatility and trend: spreads are given in multiples of the NATR (the average candle range as a fraction of the price), and the reference price is the last close shifted by up to half the NATR in the direction MACD suggests (its z-score against recent values and the sign of its histogram, half each). One limit-entry position executor per level with the triple barrier; unfilled levels are re-placed every executor_refresh_time.',
  config: PmmDynamicConfig,
  data: (c) => ({
    candles: [{ ...candlesMarket(c), interval: c.interval, bars: warmup(c) }],
    quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }],
  }),
  warmupBars: warmup,
  create: (c) => new PmmDynamic(c),
});

class PmmDynamic implements ControllerInstance, ReferencePrice {
  private readonly natr: Natr;
  private readonly macd: Macd;
  private readonly macdMean = new Sma(MACD_ZSCORE_WINDOW);
  private readonly macdStdev = new Stdev(MACD_ZSCORE_WINDOW);
  private readonly feed: CandleFeed;
  private readonly ladder: LevelLadder;
  private close = NaN;
  private macdZ = NaN;
  private priceMultiplier = NaN;
  private spreadMultiplier = NaN;
  /** The features are defined (past the warm-up) at the newest close. */
  private ready = false;
  /** close × (1 + price multiplier) as a Decimal, built on first use after each new close. */
  private reference: Decimal | null = null;

  constructor(c: PmmDynamicConfig) {
    this.natr = new Natr(c.natr_length);
    this.macd = new Macd(c.macd_fast, c.macd_slow, c.macd_signal);
    const m = candlesMarket(c);
    this.feed = new CandleFeed(m.connector, m.tradingPair, c.interval, warmup(c), (k) => this.onCandle(k), () => this.reset());
    this.ladder = new LevelLadder(c);
  }

  private onCandle(k: CandleRow): void {
    this.close = k.close;
    this.natr.update(k.high, k.low, k.close);
    const m = this.macd.update(k.close);
    if (!Number.isNaN(m)) {
      this.macdMean.update(m);
      this.macdStdev.update(m);
    }
  }

  private reset(): void {
    this.natr.reset();
    this.macd.reset();
    this.macdMean.reset();
    this.macdStdev.reset();
  }

  /** The original's features at the newest close: reference price and spread multiplier, or null in warm-up. */
  private recompute(): void {
    const hist = this.macd.histogram;
    this.reference = null;
    this.ready = this.natr.ready && this.macdStdev.ready && !Number.isNaN(hist);
    if (!this.ready) return;
    // Sample standard deviation (the original's pandas default) from the population one.
    const sd = this.macdStdev.value * Math.sqrt(MACD_ZSCORE_WINDOW / (MACD_ZSCORE_WINDOW - 1));
    // High MACD against its recent range pushes the reference down (mean reversion); a flat window has no say.
    this.macdZ = sd > 0 ? -(this.macd.macd - this.macdMean.value) / sd : 0;
    const natr = this.natr.value / 100;
    this.spreadMultiplier = natr;
    this.priceMultiplier = (0.5 * this.macdZ + 0.5 * (hist > 0 ? 1 : -1)) * (natr / 2);
  }

  referencePrice(): Decimal {
    if (this.reference === null) this.reference = new Decimal(this.close).times(1 + this.priceMultiplier);
    return this.reference;
  }

  update(view: ControllerView): ExecutorAction[] {
    if (this.feed.pull(view.market) > 0) this.recompute();
    // An extreme MACD z-score on a wild market could shift the reference to zero or below: no quotes then.
    if (!this.ready || !(this.close * (1 + this.priceMultiplier) > 0)) return [];
    return this.ladder.actions(view, this, this.spreadMultiplier);
  }

  processedData(): Record<string, unknown> {
    return {
      candle_time: Number.isFinite(this.feed.lastTime) ? this.feed.lastTime : null,
      close: num(this.close),
      reference_price: this.ready ? this.referencePrice().toFixed() : null,
      spread_multiplier: this.ready ? this.spreadMultiplier : null,
      price_multiplier: this.ready ? this.priceMultiplier : null,
      natr: num(this.natr.value),
      macd: num(this.macd.macd),
      macd_histogram: num(this.macd.histogram),
      macd_zscore: this.ready ? this.macdZ : null,
    };
  }
}
