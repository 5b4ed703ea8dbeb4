import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.js';
import { emptyMetrics } from './metrics-fixture.js';
import { candidatePoints, drawIndexes, ParamGrid, paramValues, rankTrials, walkForwardWindows, withParams } from '../../../src/core/backtest/param-space.js';

const MIN = 60_000;
const issuePath = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return ((err as AppError).details as { issues: Array<{ path: string }> }).issues[0]!.path;
  }
  throw new Error('expected a refusal');
};

describe('parameter space', () => {
  it('expands a range by its step, inclusive of max, without float noise', () => {
    expect(paramValues({ min: 20, max: 100, step: 20 })).toEqual([20, 40, 60, 80, 100]);
    expect(paramValues({ min: 0.1, max: 0.3, step: 0.1 })).toEqual([0.1, 0.2, 0.3]);
    expect(paramValues({ min: 1, max: 2, step: 0.3 })).toEqual([1, 1.3, 1.6, 1.9]);
    expect(paramValues({ min: 0.001, max: 0.003, step: 0.0005 })).toEqual([0.001, 0.0015, 0.002, 0.0025, 0.003]);
    expect(paramValues({ min: 5, max: 5, step: 1 })).toEqual([5]);
    expect(paramValues({ values: ['a', 2, true] })).toEqual(['a', 2, true]);
  });

  it('a grid has the product of the value counts, the last parameter varying fastest', () => {
    const g = new ParamGrid({ bb_length: { min: 20, max: 60, step: 20 }, bb_std: { values: [1.5, 2] }, 'trailing_stop.activation_price': { min: 0.01, max: 0.02, step: 0.01 } });
    expect(g.size).toBe(12);
    expect(g.at(0)).toEqual({ bb_length: 20, bb_std: 1.5, 'trailing_stop.activation_price': 0.01 });
    expect(g.at(1)).toEqual({ bb_length: 20, bb_std: 1.5, 'trailing_stop.activation_price': 0.02 });
    expect(g.at(2)).toEqual({ bb_length: 20, bb_std: 2, 'trailing_stop.activation_price': 0.01 });
    expect(g.at(11)).toEqual({ bb_length: 60, bb_std: 2, 'trailing_stop.activation_price': 0.02 });
    const all = candidatePoints(g, { method: 'grid' }, 100);
    expect(all).toHaveLength(12);
    expect(new Set(all.map((p) => JSON.stringify(p))).size).toBe(12);
  });

  it('takes the fields in path order whatever order they were written in, as a stored request keeps none', () => {
    const written = new ParamGrid({ bb_std: { values: [1.5, 2] }, bb_length: { min: 20, max: 40, step: 20 } });
    const sorted = new ParamGrid({ bb_length: { min: 20, max: 40, step: 20 }, bb_std: { values: [1.5, 2] } });
    expect(written.keys).toEqual(['bb_length', 'bb_std']);
    for (let i = 0; i < 4; i++) expect(written.at(i)).toEqual(sorted.at(i));
    expect(written.at(1)).toEqual({ bb_length: 20, bb_std: 2 });
  });

  it('refuses a grid over the cap on space, and a draw over the cap or the space on search.n', () => {
    const g = new ParamGrid({ a: { min: 1, max: 200, step: 1 }, b: { min: 1, max: 100, step: 1 } });
    expect(g.size).toBe(20_000);
    expect(issuePath(() => candidatePoints(g, { method: 'grid' }, 10_000))).toBe('space');
    expect(issuePath(() => candidatePoints(g, { method: 'random', n: 10_001, random_state: 1 }, 10_000))).toBe('search.n');
    expect(issuePath(() => candidatePoints(new ParamGrid({ a: { values: [1, 2] } }), { method: 'random', n: 3, random_state: 1 }, 10_000))).toBe('search.n');
  });

  it('a range of millions of steps is counted, not listed: a grid over it is refused at once, a random draw takes a few', () => {
    const wide = new ParamGrid({ bb_length: { min: 0, max: 2e7, step: 1 }, bb_std: { values: [1, 2] } });
    expect(wide.size).toBe(40_000_002);
    expect(issuePath(() => candidatePoints(wide, { method: 'grid' }, 10_000))).toBe('space');
    const drawn = candidatePoints(wide, { method: 'random', n: 5, random_state: 7 }, 10_000);
    expect(drawn).toHaveLength(5);
    for (const p of drawn) expect(Number.isInteger(p.bb_length) && (p.bb_length as number) >= 0 && (p.bb_length as number) <= 2e7).toBe(true);
    // More values than an index can count: refused on the parameter, for either search.
    const endless = new ParamGrid({ x: { min: 0, max: 1e15, step: 1e-9 } });
    expect(endless.size).toBe(Infinity);
    expect(issuePath(() => candidatePoints(endless, { method: 'grid' }, 10_000))).toBe('space');
    expect(issuePath(() => candidatePoints(endless, { method: 'random', n: 3, random_state: 1 }, 10_000))).toBe('space.x');
  });

  it('random draws are distinct, inside the space, and the same for the same seed', () => {
    const a = drawIndexes(1000, 100, 7);
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect(a.every((i) => Number.isInteger(i) && i >= 0 && i < 1000)).toBe(true);
    expect(drawIndexes(1000, 100, 7)).toEqual(a);
    expect(drawIndexes(1000, 100, 8)).not.toEqual(a);
    expect(new Set(drawIndexes(10, 10, 3))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const g = new ParamGrid({ x: { min: 1, max: 50, step: 1 }, y: { values: ['p', 'q'] } });
    expect(candidatePoints(g, { method: 'random', n: 5, random_state: 42 }, 100)).toEqual(candidatePoints(g, { method: 'random', n: 5, random_state: 42 }, 100));
  });

  it('sets nested paths on a copy, keeping the sibling fields', () => {
    const base = { bb_length: 100, trailing_stop: { activation_price: 0.015, trailing_delta: 0.003 } };
    const out = withParams(base, { bb_length: 50, 'trailing_stop.activation_price': 0.02 });
    expect(out).toEqual({ bb_length: 50, trailing_stop: { activation_price: 0.02, trailing_delta: 0.003 } });
    expect(base.trailing_stop.activation_price).toBe(0.015);
    expect(withParams({}, { 'a.b': 1 })).toEqual({ a: { b: 1 } });
  });

  it('walk-forward cuts the range into in-sample + windows segments of whole candles', () => {
    // 10 candles, 2 in-sample segments + 3 windows = 5 segments of 2 candles.
    const w = walkForwardWindows(0, 9 * MIN, MIN, 3, 2);
    expect(w).toEqual([
      { in_sample: { start: 0, end: 3 * MIN }, out_of_sample: { start: 4 * MIN, end: 5 * MIN } },
      { in_sample: { start: 2 * MIN, end: 5 * MIN }, out_of_sample: { start: 6 * MIN, end: 7 * MIN } },
      { in_sample: { start: 4 * MIN, end: 7 * MIN }, out_of_sample: { start: 8 * MIN, end: 9 * MIN } },
    ]);
    // 11 candles in 3 segments: 4, 4, 3; the last out-of-sample segment ends at the range's end.
    const u = walkForwardWindows(0, 10 * MIN, MIN, 2, 1);
    expect(u.map((x) => [x.in_sample.start / MIN, x.in_sample.end / MIN, x.out_of_sample.start / MIN, x.out_of_sample.end / MIN])).toEqual([
      [0, 3, 4, 7],
      [4, 7, 8, 10],
    ]);
    expect(issuePath(() => walkForwardWindows(0, 3 * MIN, MIN, 4, 1))).toBe('search.windows');
  });

  it('ranks by the objective, leaves out broken constraints and null objectives, ties to the earlier trial', () => {
    const t = (trial: number, sharpe: number | null, dd: number, n = 5) => ({ trial, params: { x: trial }, metrics: { ...emptyMetrics(), sharpe_ratio: sharpe, max_drawdown_pct: dd, total_executors: n } });
    const trials = [t(0, 1.2, 0.1), t(1, 2.5, 0.4), t(2, null, 0.1), t(3, 1.2, 0.05), t(4, 3, 0.1, 1), t(5, -1, 0.01)];
    const max = rankTrials(trials, { metric: 'sharpe_ratio', direction: 'maximize' }, [{ metric: 'max_drawdown_pct', op: 'lte', value: 0.2 }, { metric: 'total_executors', op: 'gte', value: 2 }]);
    expect(max.map((x) => x.trial)).toEqual([0, 3, 5]);
    const min = rankTrials(trials, { metric: 'max_drawdown_pct', direction: 'minimize' }, []);
    expect(min.map((x) => x.trial)).toEqual([5, 3, 0, 2, 4, 1]);
  });
});
