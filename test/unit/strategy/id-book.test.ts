import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdBook } from '../../../src/core/strategy/id-book.js';

/** IdBook against a Map, which keeps insertion order the same way: any run of sets and deletes, small and past the index. */
describe('IdBook', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 40 }) }),
  );

  it('answers as a Map does after any run of sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const book = new IdBook<number>();
        const ref = new Map<string, number>();
        for (const o of ops) {
          const id = `o${o.id}`;
          if (o.kind === 'set') {
            expect(book.set(id, o.value)).toBe(book);
            ref.set(id, o.value);
          } else expect(book.delete(id)).toBe(ref.delete(id));
          expect(book.size).toBe(ref.size);
        }
        expect(book.keys()).toEqual([...ref.keys()]);
        expect(book.values()).toEqual([...ref.values()]);
        expect(book.entries()).toEqual([...ref.entries()]);
        expect(Array.from({ length: book.size }, (_, i) => book.at(i))).toEqual([...ref.values()]);
        for (let i = 0; i <= 40; i++) {
          expect(book.get(`o${i}`)).toBe(ref.get(`o${i}`));
        }
      }),
      { seed: 20261205, numRuns: 500 },
    );
  });

  it('hands out copies: changing the book while walking its keys or values leaves them as they were', () => {
    const book = new IdBook<string>();
    for (let i = 0; i < 20; i++) book.set(`o${i}`, `v${i}`);
    const keys = book.keys();
    const values = book.values();
    for (const k of keys) book.delete(k);
    expect(book.size).toBe(0);
    expect(keys).toHaveLength(20);
    expect(values[19]).toBe('v19');
    expect(book.get('o3')).toBeUndefined();
  });
});
