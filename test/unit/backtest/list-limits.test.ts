import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { storedBacktest } from '../../../src/core/backtest/stored-result.js';
import { columns, env, MIN, spec, T0 } from './helpers.js';

/**
 * A run past the list caps lists only the first executors and fills, counts the rest in its metrics
 * and says so; its figures are those of the same run listing everything.
 */
describe('a backtest past its list caps', () => {
  const CANDLES = 40_000;
  // A gentle wave, so that executors win and lose; one long every ten minutes, closed by its 2-minute time limit.
  const rows = Array.from({ length: CANDLES }, (_, i): [number, number, number, number] => {
    const p = 100 + 5 * Math.sin(i / 50);
    return [p, p + 0.2, p - 0.2, p + 0.1];
  });
  const opens = Array.from({ length: CANDLES / 10 }, (_, i) => ({ at: T0 + i * 10 * MIN, side: i % 2 ? 'sell' : 'buy', amount: '0.1', time_limit: 120 }));
  const s = spec({ opens, end: T0 + (CANDLES - 1) * MIN, initial_balances: { base: '100', quote: '100000' } });
  const cols = columns(rows);

  it('keeps the metrics of the whole run, lists the first executors and fills, and notes what it left out', () => {
    const all = runBacktest(s, cols, null, env);
    const capped = runBacktest(s, cols, null, { ...env, limits: { executors: 1_000, fills: 1_500, pruneAbove: 300, pruneKeep: 50 } });
    expect(all.executors).toHaveLength(4_000);
    expect(all.fills).toHaveLength(8_000);
    expect(all.unlisted).toBeUndefined();
    expect(capped.metrics).toEqual(all.metrics);
    expect(capped.metrics.total_executors).toBe(4_000);
    expect(capped.executors).toEqual(all.executors.slice(0, 1_000));
    expect(capped.fills).toEqual(all.fills.slice(0, 1_500));
    expect(capped.unlisted).toEqual({ executors: 3_000, fills: all.fills.length - 1_500 });
    const summary = storedBacktest(capped, () => 'digest').summary;
    expect(summary).toMatchObject({ executors: 4_000, fills: all.fills.length });
    expect(summary.notes[0]).toMatch(/^The result lists the first 1,000 executors and the first fills only: 3,000 executors and [\d,]+ fills are left out of the lists \(the metrics count them\)/);
  });
});
