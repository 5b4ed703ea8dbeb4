import { z } from 'zod';
import type { CandleRow } from '../../exchange/types.js';
import { defineController } from '../controller.js';
import { BollingerBands, Macd } from '../indicators/index.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { CandleFeed } from './base/candle-feed.js';
import { DirectionalTrader, directionalFields } from './base/directional.js';
import { candleFields, candlesMarket } from './base/fields.js';
import { num } from './base/signal.js';

const Period = z.number().int().min(1).max(5000);

const MacdBbV1Config = z
  .object({
    ...directionalFields,
    ...candleFields('3m'),
    bb_length: Period.min(2).default(100).describe('Bollinger Bands length (candles).'),
    bb_std: z.number().finite().gt(0).max(10).default(2).describe('Band width in standard deviations (population).'),
    bb_long_threshold: z.number().finite().default(0).describe('Long needs %B below this (0 = the lower band).'),
    bb_short_threshold: z.number().finite().default(1).describe('Short needs %B above this (1 = the upper band).'),
    macd_fast: Period.default(21).describe('MACD fast EMA length.'),
    macd_slow: Period.default(42).describe('MACD slow EMA length; longer than macd_fast.'),
    macd_signal: Period.default(9).describe('MACD signal EMA length.'),
  })
  .strict()
  .refine((c) => c.macd_fast < c.macd_slow, { message: 'macd_fast must be shorter than macd_slow', path: ['macd_fast'] });
type MacdBbV1Config = z.infer<typeof MacdBbV1Config>;

/** Closes until both the bands and the MACD histogram (slow EMA, then the signal EMA over MACD) are defined. */
const warmup = (c: MacdBbV1Config) => Math.max(c.bb_length, c.macd_slow + c.macd_signal - 1);

export const macdBbV1 = defineController({
  name: 'macd_bb_v1',
  type: 'directional_trading',
  description:
    'Bollinger Bands reversal confirmed by MACD momentum: long when %B is below bb_long_threshold while MACD is negative and its histogram positive (downtrend losing strength), short when %B is above bb_short_threshold while MACD is positive and its histogram negative. Each signal opens a position executor at market with the triple barrier, up to max_executors_per_side per side, one per cooldown_time.',
  config: MacdBbV1Config,
  data: (c) => ({
    candles: [{ ...candlesMarket(c), interval: c.interval, bars: warmup(c) }],
    quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }],
    executors: 'active',
  }),
  warmupBars: warmup,
  create: (c) => new MacdBbV1(c),
});

class MacdBbV1 implements ControllerInstance {
  private readonly bb: BollingerBands;
  private readonly macd: Macd;
  private readonly feed: CandleFeed;
  private readonly trader: DirectionalTrader;
  private signal = 0;
  private close = NaN;

  constructor(private readonly c: MacdBbV1Config) {
    this.bb = new BollingerBands(c.bb_length, c.bb_std);
    this.macd = new Macd(c.macd_fast, c.macd_slow, c.macd_signal);
    const m = candlesMarket(c);
    this.feed = new CandleFeed(m.connector, m.tradingPair, c.interval, warmup(c), (k) => this.onCandle(k), () => this.reset());
    this.trader = new DirectionalTrader(c);
  }

  private onCandle(k: CandleRow): void {
    this.close = k.close;
    this.bb.update(k.close);
    this.macd.update(k.close);
  }

  private reset(): void {
    this.bb.reset();
    this.macd.reset();
  }

  update(view: ControllerView): ExecutorAction[] {
    if (this.feed.pull(view.market) > 0) {
      const pb = this.bb.percentB;
      const m = this.macd.macd;
      const h = this.macd.histogram;
      // Any NaN (warm-up) makes every comparison false: no signal.
      if (pb < this.c.bb_long_threshold && h > 0 && m < 0) this.signal = 1;
      else if (pb > this.c.bb_short_threshold && h < 0 && m > 0) this.signal = -1;
      else this.signal = 0;
    }
    return this.trader.actions(view, this.signal);
  }

  processedData(): Record<string, unknown> {
    return {
      signal: this.signal,
      candle_time: Number.isFinite(this.feed.lastTime) ? this.feed.lastTime : null,
      close: num(this.close),
      bb_upper: num(this.bb.upper),
      bb_middle: num(this.bb.middle),
      bb_lower: num(this.bb.lower),
      bb_percent_b: num(this.bb.percentB),
      macd: num(this.macd.macd),
      macd_signal: num(this.macd.signal),
      macd_histogram: num(this.macd.histogram),
    };
  }
}
