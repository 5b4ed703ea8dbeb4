import { z } from 'zod';
import type { CandleRow } from '../../exchange/types.js';
import { defineController } from '../controller.js';
import { BollingerBands } from '../indicators/index.js';
import type { ControllerInstance, ControllerView, ExecutorAction } from '../types.js';
import { CandleFeed } from './base/candle-feed.js';
import { DirectionalTrader, directionalFields } from './base/directional.js';
import { candleFields, candlesMarket } from './base/fields.js';
import { num } from './base/signal.js';

const BollingerV1Config = z
  .object({
    ...directionalFields,
    ...candleFields('3m'),
    bb_length: z.number().int().min(2).max(5000).default(100).describe('Bollinger Bands length (candles).'),
    bb_std: z.number().finite().gt(0).max(10).default(2).describe('Band width in standard deviations (population).'),
    bb_long_threshold: z.number().finite().default(0).describe('Long when %B is below this (0 = the lower band).'),
    bb_short_threshold: z.number().finite().default(1).describe('Short when %B is above this (1 = the upper band).'),
  })
  .strict();
type BollingerV1Config = z.infer<typeof BollingerV1Config>;

export const bollingerV1 = defineController({
  name: 'bollinger_v1',
  type: 'directional_trading',
  description:
    'Mean reversion on Bollinger Bands: opens a long position when the close falls below the lower band (%B under bb_long_threshold) and a short when it rises above the upper band (%B over bb_short_threshold). Each signal opens a position executor at market with stop loss, take profit, time limit and trailing stop, up to max_executors_per_side per side, one per cooldown_time.',
  config: BollingerV1Config,
  data: (c) => ({
    candles: [{ ...candlesMarket(c), interval: c.interval, bars: c.bb_length }],
    quotes: [{ connector: c.connector_name, tradingPair: c.trading_pair }],
    executors: 'active',
  }),
  warmupBars: (c) => c.bb_length,
  create: (c) => new BollingerV1(c),
});

class BollingerV1 implements ControllerInstance {
  private readonly bb: BollingerBands;
  private readonly feed: CandleFeed;
  private readonly trader: DirectionalTrader;
  private signal = 0;
  private close = NaN;

  constructor(private readonly c: BollingerV1Config) {
    this.bb = new BollingerBands(c.bb_length, c.bb_std);
    const m = candlesMarket(c);
    this.feed = new CandleFeed(m.connector, m.tradingPair, c.interval, c.bb_length, (k) => this.onCandle(k), () => this.bb.reset());
    this.trader = new DirectionalTrader(c);
  }

  private onCandle(k: CandleRow): void {
    this.close = k.close;
    this.bb.update(k.close);
  }

  update(view: ControllerView): ExecutorAction[] {
    if (this.feed.pull(view.market) > 0) {
      const pb = this.bb.percentB;
      // NaN (warm-up) compares false both ways: no signal.
      this.signal = pb < this.c.bb_long_threshold ? 1 : pb > this.c.bb_short_threshold ? -1 : 0;
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
      bb_bandwidth: num(this.bb.bandwidth),
    };
  }
}
