import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { figure } from '../../../src/core/bots/performance-figures.js';
import { quickHeartbeat, quickPerformance } from '../../../src/core/bots/protocol/quick-checks.js';
import { Heartbeat, Performance } from '../../../src/core/bots/protocol/reports.js';
import { Decimal, MAX_AMOUNT } from '../../../src/core/decimal.js';

// Values near the edges of what the schemas take: the checks must never accept what the schema refuses.
const scalar = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, null, true, '', '1.5', 'x'.repeat(64), 'x'.repeat(65), '__proto__'),
  fc.string({ maxLength: 70 }),
);
const key = fc.oneof(fc.constantFrom('pmm-1', '__proto__', 'performance', 'custom_info', 'k'.repeat(128), 'k'.repeat(129)), fc.string({ maxLength: 8 }));
const loose = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
})).v;
const figureArb = fc.oneof(scalar, fc.constant(undefined));
const report = fc.record(
  {
    realized_pnl_quote: figureArb,
    unrealized_pnl_quote: figureArb,
    unrealized_pnl_pct: figureArb,
    realized_pnl_pct: figureArb,
    global_pnl_quote: figureArb,
    global_pnl_pct: figureArb,
    volume_traded: figureArb,
    positions_summary: fc.oneof(fc.array(loose, { maxLength: 2 }), loose),
    close_type_counts: fc.oneof(fc.dictionary(key, fc.oneof(fc.integer(), scalar), { maxKeys: 3 }), loose),
    extra: loose,
  },
  { requiredKeys: [] },
);
const entry = fc.record({ performance: fc.oneof(report, loose), custom_info: fc.oneof(fc.dictionary(key, loose, { maxKeys: 2 }), loose) }, { requiredKeys: [] });
const performance = fc.oneof(fc.dictionary(key, fc.oneof(entry, loose), { maxKeys: 3 }), loose);
/** What the ingest sees: the value after a trip through JSON text (so a `__proto__` key is an own key). */
const viaJson = (v: unknown) => {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
};

describe('the quick checks for heartbeats and performance reports', () => {
  it('accept only what the schema accepts, and then the schema returns it unchanged', () => {
    let accepted = 0;
    fc.assert(
      fc.property(performance, (v) => {
        const json = viaJson(v);
        if (!quickPerformance(json)) return;
        accepted++;
        const r = Performance.safeParse(json);
        expect(r.success).toBe(true);
        expect(r.data).toEqual(json);
      }),
      { numRuns: 3000 },
    );
    // The generator reaches the accepting side too, or the property above proved nothing.
    expect(accepted).toBeGreaterThan(100);
  });

  it('leave refusals to the schema: a bad figure, a null, a long id, an array, a non-finite count', () => {
    const good = { 'pmm-1': { performance: { realized_pnl_quote: '1.5', volume_traded: 12, positions_summary: [], close_type_counts: { TAKE_PROFIT: 2 } }, custom_info: { n: 1 } } };
    expect(quickPerformance(good)).toBe(true);
    expect(Performance.safeParse(good).success).toBe(true);
    const bad = [
      { 'pmm-1': { performance: { realized_pnl_quote: 'x'.repeat(65) } } },
      { 'pmm-1': { performance: { realized_pnl_quote: null } } },
      { 'pmm-1': { performance: { volume_traded: Infinity } } },
      { 'pmm-1': { performance: { close_type_counts: { TAKE_PROFIT: '2' } } } },
      { 'pmm-1': { performance: { positions_summary: {} } } },
      { 'pmm-1': { custom_info: [] } },
      { ['k'.repeat(129)]: {} },
      { 'pmm-1': null },
      [],
    ];
    for (const b of bad) {
      expect(quickPerformance(b), JSON.stringify(b)).toBe(false);
      expect(Performance.safeParse(b).success, JSON.stringify(b)).toBe(false);
    }
    // JSON.parse turns an own "__proto__" key into a plain key: the schema decides those.
    expect(quickPerformance(JSON.parse('{"__proto__": {}}'))).toBe(false);
    // JSON text can carry a number too large for a double: it parses to Infinity, which the schema refuses.
    const huge = JSON.parse('{"pmm-1": {"performance": {"volume_traded": 1e999}}}') as unknown;
    expect(quickPerformance(huge)).toBe(false);
    expect(Performance.safeParse(huge).success).toBe(false);
  });

  it('take a heartbeat with a finite ts and leave anything else to the schema', () => {
    fc.assert(
      fc.property(fc.oneof(fc.record({ ts: scalar, other: loose }, { requiredKeys: [] }), loose), (v) => {
        const json = viaJson(v);
        if (quickHeartbeat(json)) expect(Heartbeat.safeParse(json)).toEqual({ success: true, data: json });
      }),
      { numRuns: 2000 },
    );
    expect(quickHeartbeat({ ts: 1_700_000_000_000_000 })).toBe(true);
    expect(quickHeartbeat(JSON.parse('{"ts": 1e999}'))).toBe(false);
    expect(quickHeartbeat({ ts: '1' })).toBe(false);
    expect(quickHeartbeat([])).toBe(false);
  });
});

describe('a performance figure', () => {
  // What the figure was before plain strings and floats skipped the decimal: the value stored must not change.
  const throughDecimal = (v: number | string) => {
    try {
      const d = new Decimal(typeof v === 'number' ? String(v) : v.trim());
      return d.isFinite() && d.abs().lt(MAX_AMOUNT) ? d.toFixed() : null;
    } catch {
      return null;
    }
  };

  it('is the same number with or without the decimal on the way', () => {
    const cases = fc.oneof(
      fc.double(),
      fc.double({ min: -1e21, max: 1e21 }),
      fc.integer(),
      fc.constantFrom(0.1, -0, 1e-7, 123456789012345680000, 99999999999999990000, 1e20, -1e20, 5e-324),
      fc.constantFrom('1.50', '007', '-0', '0.000', '1e5', ' 12 ', '99999999999999999999', '100000000000000000000', '-99999999999999999999.999', 'abc', '', '.5', '5.', 'NaN', '-Infinity'),
      fc.stringMatching(/^-?\d{1,22}(\.\d{0,25})?$/),
    );
    fc.assert(
      fc.property(cases, (v) => {
        const fast = figure(v);
        const slow = throughDecimal(v);
        if (slow === null) expect(fast).toBeNull();
        else expect(fast !== null && new Decimal(fast).eq(slow), `${String(v)}: ${fast} vs ${slow}`).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
