import { z } from 'zod';
import type { CandleColumns } from '../../../src/core/backtest/candle-loader.js';
import type { BacktestEnv } from '../../../src/core/backtest/engine.js';
import { BacktestSpec, type BacktestSpecInput } from '../../../src/core/backtest/spec.js';
import { simMarkets } from '../../../src/core/exchange/sim/markets.js';
import { defineController } from '../../../src/core/strategy/controller.js';
import { createExecutor } from '../../../src/core/strategy/executors/registry.js';
import type { ExecutorAction } from '../../../src/core/strategy/types.js';

export const MIN = 60_000;
/** What the scripted controller saw at each update: now, and the close time of the newest candle it was shown. */
export const peeks: Array<{ now: number; newestClose: number | null }> = [];
/** 2024-01-01T00:00:00Z: the candles of these tests start here. */
export const T0 = Date.UTC(2024, 0, 1);

/** Candle columns from [open, high, low, close] rows one minute apart from `t0` (`null` leaves a gap). */
export function columns(rows: Array<[number, number, number, number] | null>, t0 = T0): CandleColumns {
  const kept = rows.map((r, i) => (r ? { t: t0 + i * MIN, r } : null)).filter((x) => x !== null);
  const col = (f: (x: (typeof kept)[number]) => number) => Float64Array.from(kept, f);
  return {
    time: col((x) => x.t),
    open: col((x) => x.r[0]),
    high: col((x) => x.r[1]),
    low: col((x) => x.r[2]),
    close: col((x) => x.r[3]),
    volume: col(() => 1),
  };
}

/**
 * A controller for tests: at the first step at or after each `opens[].at` it creates one position
 * executor with the given barriers; it records what it saw so tests can check it never saw the future.
 */
export const scriptedController = defineController({
  name: 'scripted_v1',
  type: 'directional_trading',
  description: 'Opens position executors at set times (tests only).',
  config: z.object({
    connector_name: z.string(),
    trading_pair: z.string(),
    opens: z
      .array(
        z.object({
          at: z.number(),
          side: z.enum(['buy', 'sell']),
          amount: z.string(),
          stop_loss: z.number().optional(),
          take_profit: z.number().optional(),
          time_limit: z.number().optional(),
          open_order_type: z.enum(['market', 'limit', 'limit_maker']).default('market'),
          entry_price: z.string().optional(),
        }),
      )
      .default([]),
  }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '1m', bars: 3 }], quotes: [] }),
  warmupBars: () => 3,
  create: (c) => {
    let next = 0;
    return {
      update(view) {
        const seen = view.market.candles(c.connector_name, c.trading_pair, '1m', 3);
        peeks.push({ now: view.now, newestClose: seen.length ? seen[seen.length - 1]!.timestamp + MIN : null });
        const out: ExecutorAction[] = [];
        while (next < c.opens.length && c.opens[next]!.at <= view.now) {
          const o = c.opens[next++]!;
          out.push({
            kind: 'create',
            config: {
              type: 'position',
              connector_name: c.connector_name,
              trading_pair: c.trading_pair,
              leverage: 1,
              side: o.side,
              amount: o.amount,
              ...(o.entry_price ? { entry_price: o.entry_price } : {}),
              triple_barrier: {
                ...(o.stop_loss ? { stop_loss: o.stop_loss } : {}),
                ...(o.take_profit ? { take_profit: o.take_profit } : {}),
                ...(o.time_limit ? { time_limit: o.time_limit } : {}),
                open_order_type: o.open_order_type,
                take_profit_order_type: 'market',
                stop_loss_order_type: 'market',
                time_limit_order_type: 'market',
              },
            },
          });
        }
        return out;
      },
    };
  },
});

export const btcUsdt = simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')!;

export const env: BacktestEnv = {
  controller: (name) => (name === scriptedController.name ? scriptedController : undefined),
  createExecutor,
  market: btcUsdt,
};

export function spec(over: Partial<BacktestSpecInput> & { opens?: unknown[] } = {}): BacktestSpec {
  const { opens, ...rest } = over;
  return BacktestSpec.parse({
    controller: { name: 'scripted_v1', config: { opens: opens ?? [] } },
    connector: 'sim',
    trading_pair: 'BTC-USDT',
    start: T0,
    end: T0 + 1000 * MIN,
    resolution: '1m',
    trade_cost: 0,
    initial_balances: { base: '1', quote: '10000' },
    ...rest,
  });
}
