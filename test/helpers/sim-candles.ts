import { ManualClock } from '../../src/core/clock.js';
import type { CandleRow } from '../../src/core/exchange/types.js';
import { SimExchange } from '../../src/core/exchange/sim/sim-exchange.js';

const MIN = 60_000;

/** The sim exchange's (the server's default seed) 1m candles of a market from `from` to `to` (open times, inclusive), read a page of 1,000 at a time. */
export function simCandleRows(type: 'spot' | 'perpetual', pair: string, from: number, to: number): CandleRow[] {
  const sim = new SimExchange('sim', new ManualClock(to + 3_600_000));
  const m = sim.market(type, pair);
  const rows: CandleRow[] = [];
  for (let t = from; t <= to; t += 1000 * MIN) rows.push(...sim.candles(m, '1m', { since: t, until: Math.min(to, t + 999 * MIN), limit: 1000 }));
  return rows;
}
