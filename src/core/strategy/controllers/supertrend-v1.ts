import { z } from 'zod';
import type { CandleRow } from '../../exchange/types.js';
import { defineController } from '../controller.js';
import { Supertrend } from '../indicators/index.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { CandleFeed } from './base/candle-feed.js';
import { DirectionalTrader, directionalFields } from './base/directional.js';
import { candleFields, candlesMarket } from './base/fields.js';
import { num } from './base/signal.js';

const SupertrendV1Config = z
  .object({
    ...directionalFields,
    ...candleFields('3m'),
    length: z.number().int().min(1).max(5000).default(20).describe('Supertrend ATR length (candles).'),
    multiplier: z.number().finite().gt(0).max(100).default(4).describe('Supertrend band distance in ATRs.'),
    percentage_threshold: z
      .number()
      .finite()
      .gt(0)
      .max(1)
      .default(0.01)
      .describe('Trade only while the close is within this fraction of the supertrend line (|close - line| / close), i.e. near the trailing stop of the trend.'),
  })
  .strict();
type SupertrendV1Config = z.infer<typeof SupertrendV1Config>;

/** The line and its direction exist from the first ATR, at the `length`-th candle. */
const warmup = (c: SupertrendV1Config) => c.length;

export const supertrendV1 = defineController({
  name: 'supertrend_v1',
  type: 'directional_trading',
  description:
    'Trend following on Supertrend: long while the supertrend points up and short while it points down, but only when the close is within percentage_threshold of the supertrend line, so entries sit close to the stop the trend implies. Each signal opens a position executor at market with the triple barrier, up to max_executors_per_side per side, one per cooldown_time.',
  config: SupertrendV1Config,
  data: (c) => ({
    candles: [{ ...candlesMarket(c), interval: c.interval, bars: warmup(c) }],
    quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }],
    executors: 'active',
  }),
  warmupBars: warmup,
  create: (c) => new SupertrendV1(c),
});

class SupertrendV1 implements ControllerInstance {
  private readonly st: Supertrend;
  private readonly feed: CandleFeed;
  private readonly trader: DirectionalTrader;
  private signal = 0;
  private close = NaN;
  private distance = NaN;

  constructor(private readonly c: SupertrendV1Config) {
    this.st = new Supertrend(c.length, c.multiplier);
    const m = candlesMarket(c);
    this.feed = new CandleFeed(m.connector, m.tradingPair, c.interval, warmup(c), (k) => this.onCandle(k), () => this.st.reset());
    this.trader = new DirectionalTrader(c);
  }

  private onCandle(k: CandleRow): void {
    this.close = k.close;
    this.st.update(k.high, k.low, k.close);
  }

  update(view: ControllerView): ExecutorAction[] {
    if (this.feed.pull(view.market) > 0) {
      this.distance = Math.abs(this.close - this.st.value) / this.close;
      // NaN distance (warm-up) fails the threshold; direction is 0 before warm-up.
      this.signal = this.distance < this.c.percentage_threshold ? this.st.direction : 0;
    }
    return this.trader.actions(view, this.signal);
  }

  processedData(): Record<string, unknown> {
    return {
      signal: this.signal,
      candle_time: Number.isFinite(this.feed.lastTime) ? this.feed.lastTime : null,
      close: num(this.close),
      supertrend: num(this.st.value),
      supertrend_direction: this.st.direction,
      percentage_distance: num(this.distance),
    };
  }
}
