import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AccountName, ConnectorName, Cursor, DecimalIn, Limit, PositiveDecimalIn, pageOf, paginated, QueryBool, QueryInt, QueryList, TradingPair } from '../../src/core/schema.js';

const ok = <T extends z.ZodType>(schema: T, v: unknown) => {
  const r = schema.safeParse(v);
  if (!r.success) throw new Error(`expected ${JSON.stringify(v)} to pass: ${r.error.message}`);
  return r.data as z.output<T>;
};
const bad = (schema: z.ZodType, v: unknown) => {
  const r = schema.safeParse(v);
  expect(r.success, `expected ${JSON.stringify(v)} to fail`).toBe(false);
  return r.error!.issues;
};

describe('DecimalIn', () => {
  it.each([
    [1.5, '1.5'],
    [0, '0'],
    [-3, '-3'],
    ['2.50', '2.50'],
    ['  7.25 ', '7.25'],
    ['.5', '.5'],
    ['5.', '5.'],
    ['1e-8', '1e-8'],
    ['1.5E+3', '1.5E+3'],
    ['-0.0001', '-0.0001'],
    ['0.12345678901234567890123', '0.12345678901234567890123'],
  ] as const)('accepts %j as the string %j', (v, s) => {
    expect(ok(DecimalIn, v)).toBe(s);
  });

  it('keeps a numeric string exactly as given (no float rounding)', () => {
    expect(ok(DecimalIn, '0.1000000000000000055511151231257827')).toBe('0.1000000000000000055511151231257827');
  });

  it.each(['abc', '', ' ', '1,000', '1.2.3', 'NaN', 'Infinity', '0x10', '--1', '1e', true, null, {}, [], Number.NaN, Number.POSITIVE_INFINITY])('refuses %j', (v) => {
    bad(DecimalIn, v);
  });

  it('PositiveDecimalIn refuses zero and negatives', () => {
    expect(ok(PositiveDecimalIn, '0.001')).toBe('0.001');
    bad(PositiveDecimalIn, 0);
    bad(PositiveDecimalIn, '-1');
    expect(bad(PositiveDecimalIn, '0')[0]!.message).toMatch(/greater than 0/);
  });
});

describe('QueryInt', () => {
  const Q = QueryInt(1, 10);
  it.each([
    ['5', 5],
    [5, 5],
    [' 7 ', 7],
    ['10', 10],
    [1, 1],
  ] as const)('accepts %j as %d', (v, n) => {
    expect(ok(Q, v)).toBe(n);
  });
  it.each(['0', '11', 0, 11, '1.5', 1.5, 'abc', '', '5a', 'NaN', null, true])('refuses %j', (v) => {
    bad(Q, v);
  });
  it('allows negative ranges', () => {
    expect(ok(QueryInt(-5, 5), '-3')).toBe(-3);
    bad(QueryInt(-5, 5), '-6');
  });
  it('Limit is optional and bounded 1..1000', () => {
    expect(ok(Limit, undefined)).toBeUndefined();
    expect(ok(Limit, '1000')).toBe(1000);
    bad(Limit, '1001');
    bad(Limit, '0');
  });
  it('Cursor accepts only a next_cursor value', () => {
    expect(ok(Cursor, '100')).toBe('100');
    expect(ok(Cursor, undefined)).toBeUndefined();
    for (const v of ['x'.repeat(201), 'abc', '-1', '1.5', '1'.repeat(10), '', 5]) bad(Cursor, v);
  });
});

describe('QueryBool', () => {
  it.each([
    ['true', true],
    ['1', true],
    [true, true],
    ['false', false],
    ['0', false],
    [false, false],
  ] as const)('%j → %s', (v, b) => {
    expect(ok(QueryBool, v)).toBe(b);
  });
  it.each(['yes', 'TRUE', '', 2, null, 'on'])('refuses %j', (v) => {
    bad(QueryBool, v);
  });
});

describe('QueryList', () => {
  const L = QueryList(TradingPair);
  it('accepts a comma-separated string, a repeated parameter or an array', () => {
    expect(ok(L, 'BTC-USDT,ETH-USDT')).toEqual(['BTC-USDT', 'ETH-USDT']);
    expect(ok(L, ['BTC-USDT', 'ETH-USDT'])).toEqual(['BTC-USDT', 'ETH-USDT']);
    expect(ok(L, 'BTC-USDT')).toEqual(['BTC-USDT']);
  });
  it('trims the items of a comma-separated string and drops empty ones', () => {
    expect(ok(L, ' BTC-USDT , ,ETH-USDT,')).toEqual(['BTC-USDT', 'ETH-USDT']);
    expect(ok(L, '')).toEqual([]);
  });
  it('validates the items of an array as given', () => {
    expect(ok(L, ['SOL-USDT'])).toEqual(['SOL-USDT']);
    expect(bad(L, [' SOL-USDT ']).length).toBeGreaterThan(0);
  });
  it('validates each item and reports its index', () => {
    const issues = bad(L, 'BTC-USDT,btc-usdt');
    expect(issues[0]!.path).toEqual([1]);
    bad(L, 42);
    bad(L, [1, 2]);
  });
});

describe('names', () => {
  it('AccountName: letters, digits, _ and -, 1..64', () => {
    ok(AccountName, 'master_account');
    ok(AccountName, 'Team-1');
    ok(AccountName, 'a'.repeat(64));
    for (const v of ['', 'a b', 'a/b', 'ü', 'a'.repeat(65), 'x;drop', 12]) bad(AccountName, v);
  });
  it('ConnectorName: lowercase, digits and _, 1..64', () => {
    ok(ConnectorName, 'binance_paper_trade');
    ok(ConnectorName, 'sim');
    for (const v of ['', 'Binance', 'bin-ance', 'a'.repeat(65), 'sim perpetual']) bad(ConnectorName, v);
  });
  it('TradingPair: BASE-QUOTE in capitals', () => {
    ok(TradingPair, 'BTC-USDT');
    ok(TradingPair, '1000PEPE-USDT');
    for (const v of ['BTC/USDT', 'btc-usdt', 'BTCUSDT', 'BTC-', '-USDT', 'BTC-USDT-PERP']) bad(TradingPair, v);
  });
});

describe('pageOf', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];

  it('pages by offset cursor until the end', () => {
    expect(pageOf(items, 2)).toEqual({ data: ['a', 'b'], pagination: { limit: 2, has_more: true, next_cursor: '2' } });
    expect(pageOf(items, 2, '2')).toEqual({ data: ['c', 'd'], pagination: { limit: 2, has_more: true, next_cursor: '4' } });
    expect(pageOf(items, 2, '4')).toEqual({ data: ['e'], pagination: { limit: 2, has_more: false, next_cursor: null } });
  });

  it('walking the cursors visits every item exactly once', () => {
    const many = Array.from({ length: 23 }, (_, i) => i);
    for (const limit of [1, 5, 7, 23, 100]) {
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const p = pageOf(many, limit, cursor);
        seen.push(...p.data);
        expect(p.data.length).toBeLessThanOrEqual(limit);
        if (!p.pagination.has_more) {
          expect(p.pagination.next_cursor).toBeNull();
          break;
        }
        cursor = p.pagination.next_cursor!;
      }
      expect(seen).toEqual(many);
    }
  });

  it('has no next page when the list ends exactly at the limit', () => {
    expect(pageOf(items, 5).pagination).toEqual({ limit: 5, has_more: false, next_cursor: null });
    expect(pageOf([], 10)).toEqual({ data: [], pagination: { limit: 10, has_more: false, next_cursor: null } });
  });

  it('defaults to 100 items and an empty page past the end', () => {
    const many = Array.from({ length: 150 }, (_, i) => i);
    expect(pageOf(many).data).toHaveLength(100);
    expect(pageOf(many).pagination.next_cursor).toBe('100');
    expect(pageOf(items, 2, '10')).toEqual({ data: [], pagination: { limit: 2, has_more: false, next_cursor: null } });
  });

  it('the result matches the paginated() schema', () => {
    const schema = paginated(z.string());
    expect(schema.safeParse(pageOf(items, 2, '2')).success).toBe(true);
  });
});

describe('decimal inputs say what they want', () => {
  const O = z.object({ amount: PositiveDecimalIn, price: DecimalIn.optional() });
  const messages = (v: unknown) => O.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  it('a missing one is required, a null or a boolean is not a decimal', () => {
    expect(messages({})).toEqual(['amount: required: a decimal number (a JSON number or a numeric string)']);
    expect(messages({ amount: true, price: null })).toEqual([
      'amount: must be a decimal number: a JSON number or a numeric string such as "0.01"',
      'price: must be a decimal number: a JSON number or a numeric string such as "0.01"',
    ]);
  });
  it('keeps the specific messages of a string or a number that is wrong', () => {
    expect(messages({ amount: 'abc' })).toEqual(['amount: a decimal number']);
    expect(messages({ amount: -1 })).toEqual(['amount: must be greater than 0']);
    expect(messages({ amount: '0.5', price: 1.25 })).toBeUndefined();
  });
});
