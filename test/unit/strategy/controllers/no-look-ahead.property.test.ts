import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CandleRow } from '../../../../src/core/exchange/types.js';
import { SHIPPED_CONTROLLERS } from '../../../../src/core/strategy/controllers/index.js';
import type { ExecutorAction } from '../../../../src/core/strategy/types.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { FakeMarketView } from '../../../helpers/fake-market-view.js';
import { seededRandom } from '../../../../src/core/backtest/seeded-random.js';

const STEP = 180_000; // 3m
const N = 160;

/** Small lengths so every controller trades within N candles. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  bollinger_v1: { bb_length: 20, bb_long_threshold: 0.1, bb_short_threshold: 0.9 },
  macd_bb_v1: { bb_length: 20, bb_long_threshold: 0.2, bb_short_threshold: 0.8, macd_fast: 5, macd_slow: 10, macd_signal: 4 },
  supertrend_v1: { length: 10, multiplier: 2, percentage_threshold: 0.02 },
  pmm_simple: {},
  pmm_dynamic: { macd_fast: 5, macd_slow: 10, macd_signal: 4, natr_length: 10 },
  grid_strike: { start_price: '90', end_price: '110' },
  dca_v1: { executor_refresh_time: 600 },
};

/** A random walk around 100 from `seed`, continuing `prefix` when given. */
function walk(seed: number, prefix: readonly CandleRow[] = []): CandleRow[] {
  const rnd = seededRandom(seed);
  const rows = prefix.slice();
  let close = rows.length > 0 ? (rows[rows.length - 1] as CandleRow).close : 100;
  for (let i = rows.length; i < N; i++) {
    const open = close;
    close = Math.max(50, open * (1 + (rnd() - 0.5) * 0.03));
    rows.push({ timestamp: i * STEP, open, high: Math.max(open, close) * (1 + rnd() * 0.005), low: Math.min(open, close) * (1 - rnd() * 0.005), close, volume: 1 });
  }
  return rows;
}

/**
 * Runs a controller over the candles, one step per close. Executors end, causally, once the close has
 * moved 2% from the close they were created at, so that ending and re-creating are exercised too.
 */
function run(name: string, rows: CandleRow[], steps: number): { actions: ExecutorAction[][]; last: unknown } {
  const def = SHIPPED_CONTROLLERS.find((d) => d.name === name);
  if (def === undefined) throw new Error(name);
  const config = def.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', ...CONFIGS[name] });
  const h = new ControllerHarness(def.create(config), new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', rows));
  const createdAt = new Map<string, number>();
  const actions: ExecutorAction[][] = [];
  for (let i = 0; i < steps; i++) {
    const close = (rows[i] as CandleRow).close;
    for (const e of h.active()) {
      const from = createdAt.get(e.id) as number;
      if (Math.abs(close / from - 1) > 0.02) h.end(e.id, close < from === (e.side === 'buy') ? 'STOP_LOSS' : 'TAKE_PROFIT', (i + 1) * STEP);
    }
    const a = h.step((i + 1) * STEP);
    for (const x of a) if (x.kind === 'create' && x.config.id !== undefined) createdAt.set(x.config.id, close);
    actions.push(a);
  }
  return { actions, last: h.instance.processedData?.() };
}

describe('no look-ahead: decisions up to candle t do not depend on candles after t', () => {
  for (const name of Object.keys(CONFIGS)) {
    it(name, () => {
      let decisions = 0;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: N - 2 }), (seedA, seedB, t) => {
          const a = walk(seedA);
          const b = walk(seedB, a.slice(0, t + 1));
          const upToT = run(name, a.slice(0, t + 1), t + 1);
          const full = run(name, a, N);
          const other = run(name, b, N);
          expect(full.actions.slice(0, t + 1)).toEqual(upToT.actions);
          expect(other.actions.slice(0, t + 1)).toEqual(upToT.actions);
          expect(run(name, a, t + 1).last).toEqual(upToT.last);
          decisions += full.actions.flat().length;
        }),
        { numRuns: 15, seed: 20261202 },
      );
      // The property is not vacuous: the controller acted in these runs.
      expect(decisions).toBeGreaterThan(15);
    });
  }
});
