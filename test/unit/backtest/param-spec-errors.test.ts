import { describe, expect, it } from 'vitest';
import { OptimizationFields } from '../../../src/core/backtest/optimization-spec.js';

/** A parameter given in neither form, or wrong in the form it meant, is refused with what to write instead. */
const issuesFor = (param: unknown) => {
  const r = OptimizationFields.safeParse({
    backtest: { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: 0, end: 86_400_000 },
    space: { bb_std: param },
    search: { method: 'grid' },
    objective: { metric: 'sharpe_ratio', direction: 'maximize' },
  });
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('optimization parameter errors', () => {
  it('name both forms for an object of neither', () => {
    expect(issuesFor({ choices: [1.5, 2] })).toEqual([{ path: 'space.bb_std', message: 'must be a range {min, max, step} or a list {values: [...]}; got the keys choices' }]);
    expect(issuesFor(2)).toEqual([{ path: 'space.bb_std', message: 'must be a range {min, max, step} or a list {values: [...]}' }]);
  });

  it('say what is wrong in the form the keys point to', () => {
    expect(issuesFor({ min: 1, max: 3 })).toEqual([{ path: 'space.bb_std', message: 'a range {min, max, step}: step: Invalid input: expected number, received undefined' }]);
    expect(issuesFor({ values: [] })).toEqual([{ path: 'space.bb_std.values', message: expect.stringMatching(/>=1 items/) }]);
    expect(issuesFor({ min: 3, max: 1, step: 1 })).toEqual([{ path: 'space.bb_std.max', message: 'max must not be below min' }]);
  });

  it('refuse a value repeated in a list (2 and 2.0 are one number): it would run and rank the same trial twice', () => {
    expect(issuesFor(JSON.parse('{"values": [2, 1.5, 2.0]}'))).toEqual([{ path: 'space.bb_std.values.2', message: '2 is already in the list' }]);
  });
});
