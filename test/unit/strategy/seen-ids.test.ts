import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenIds } from '../../../src/core/strategy/seen-ids.js';

/** SeenIds against a Set of every id: runs in sequence, repeats, gaps, other prefixes, leading zeros. */
describe('SeenIds', () => {
  const id = fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 30 }).map((n) => `o${n}`) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }).map((n) => `e${n}`) },
    { weight: 1, arbitrary: fc.constantFrom('o', 'o01', 'o00', '7', '07', 'x-1', 'o1x', 'o9007199254740993', '') },
  );

  it('answers as a Set of every id does', () => {
    fc.assert(
      fc.property(fc.array(id, { maxLength: 200 }), fc.integer({ min: 0, max: 5 }), (ids, start) => {
        const seen = new SeenIds();
        const ref = new Set<string>();
        // Mostly in sequence, as a runtime numbers its orders, with the generated ids mixed in.
        const all = ids.flatMap((x, i) => [`o${start + i}`, x]);
        for (const x of all) {
          const fresh = !ref.has(x);
          ref.add(x);
          expect(seen.add(x)).toBe(fresh);
        }
      }),
      { seed: 20261205, numRuns: 1000 },
    );
  });

  it('refuses a repeat in the run and out of it', () => {
    const seen = new SeenIds();
    expect(['o1', 'o2', 'o3'].map((x) => seen.add(x))).toEqual([true, true, true]);
    expect(seen.add('o2')).toBe(false);
    expect(seen.add('o02')).toBe(true);
    expect(seen.add('o02')).toBe(false);
    expect(seen.add('o5')).toBe(true);
    expect(seen.add('o4')).toBe(true);
    expect(seen.add('o4')).toBe(false);
    expect(seen.add('o5')).toBe(false);
  });
});
