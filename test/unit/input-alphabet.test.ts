import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { journalInput } from '../../src/core/audit/journal-input.js';
import { storableValue } from '../../src/core/audit/storable.js';
import { parseBasicAuth } from '../../src/core/auth/authenticator.js';
import { IdCursor, MAX_TIME_MS, Text, TimeIn, inputDefect, MAX_INPUT_DEPTH } from '../../src/core/schema.js';
import { loadPrompts, promptArgumentProblems } from '../../src/mcp/prompts.js';
import { allCommands } from '../../src/tools/index.js';

describe('Text: the input alphabet', () => {
  const T = Text({ min: 1, max: 40 });
  const M = Text({ max: 100, multiline: true });
  it.each(['plain', 'été 漢字', 'emoji 😀 pair', 'quote " and \\ backslash'])('accepts %j', (v) => {
    expect(T.safeParse(v).success).toBe(true);
  });
  it.each(['a\u0000b', 'a\u0007b', 'line\nbreak', 'tab\t', 'esc\u001b[0m', 'del\u007f', 'lone \ud800', 'lone \udc00 low', ''])('refuses %j', (v) => {
    expect(T.safeParse(v).success).toBe(false);
  });
  it('a multiline field allows tab and line breaks, and nothing else below space', () => {
    expect(M.safeParse('-----BEGIN KEY-----\r\nabc\tdef\n-----END KEY-----').success).toBe(true);
    expect(M.safeParse('a\u0000b').success).toBe(false);
    expect(M.safeParse('a\u000bb').success).toBe(false);
  });
});

describe('TimeIn: 1970 to 9999', () => {
  it.each([0, '0', '2026-01-31T00:00:00Z', MAX_TIME_MS, '9999-12-31T23:59:59.999Z'])('accepts %j', (v) => {
    expect(TimeIn.safeParse(v).success).toBe(true);
  });
  it.each([MAX_TIME_MS + 1, 9007199254740992, '9007199254740992', '99999-01-01', '+275760-09-13T00:00:00Z', '1969-12-31T23:59:59Z', -1, 1.5, 'yesterday', ''])('refuses %j', (v) => {
    expect(TimeIn.safeParse(v).success).toBe(false);
  });
  it.each(['2023-02-29', '2024-04-31', '2024-01-01T24:00:00Z', '2024-01-01T10:60:00Z', '2024-00-10', 'Jan 5 2024', '2024-01-01T10:00:00+24:00'])('refuses the impossible or loosely written %j rather than rolling it over', (v) => {
    expect(TimeIn.safeParse(v).success).toBe(false);
  });
  it('says an impossible date is no real date', () => {
    const r = TimeIn.safeParse('2023-02-29');
    expect(!r.success && r.error.issues[0]!.message).toMatch(/^2023-02-29 is no real date or time/);
  });
  it('reads a date, a zone, fractions and a zone-less time (as UTC) exactly', () => {
    const ms = (v: string) => TimeIn.parse(v);
    expect(ms('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(ms('2024-01-01T10:00')).toBe(Date.UTC(2024, 0, 1, 10));
    expect(ms('2024-01-01 10:00:05')).toBe(Date.UTC(2024, 0, 1, 10, 0, 5));
    expect(ms('2024-01-01T10:00:00.1239Z')).toBe(Date.UTC(2024, 0, 1, 10, 0, 0, 123));
    expect(ms('2024-01-01T10:00:00+02:00')).toBe(Date.UTC(2024, 0, 1, 8));
    expect(ms('2024-01-01T10:00:00-0530')).toBe(Date.UTC(2024, 0, 1, 15, 30));
  });
});

describe('IdCursor', () => {
  it('takes the row ids a page returns and nothing beyond a safe integer', () => {
    for (const ok of ['1', '42', String(Number.MAX_SAFE_INTEGER)]) expect(IdCursor.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['99999999999999999999', '9007199254740992', '-1', '1.5', 'abc', '']) expect(IdCursor.safeParse(bad).success, bad).toBe(false);
  });
});

describe('inputDefect', () => {
  it('finds a NUL or a lone surrogate in any value or key, at any depth', () => {
    expect(inputDefect({ a: 'fine', b: [1, { c: 'x\u0000' }] })?.path).toBe('b.1.c');
    expect(inputDefect({ ['k\u0000']: 1 })?.path).toBe('k?');
    expect(inputDefect({ a: '\udc00' })?.path).toBe('a');
    expect(inputDefect('\u0000')?.path).toBe('(root)');
    expect(inputDefect({ a: 'tab\t and 😀 are storable' })).toBeNull();
  });

  it('finds where input nests deeper than the bound, and lets the bound itself through', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
    expect(inputDefect(nest(MAX_INPUT_DEPTH))).toBeNull();
    expect(inputDefect(nest(MAX_INPUT_DEPTH + 1))).toEqual({ path: Array(MAX_INPUT_DEPTH).fill('a').join('.'), message: `nests deeper than ${MAX_INPUT_DEPTH} levels` });
    expect(inputDefect([[[[1]]]])).toBeNull();
  });
});

describe('journalInput', () => {
  const schema = z.strictObject({
    name: z.string(),
    creds: z.partialRecord(z.enum(['api_key', 'secret']), z.string()).optional(),
    list: z.array(z.strictObject({ id: z.string() })).optional(),
    pick: z.union([z.array(z.string()), z.string()]).optional(),
  });
  it('keeps known fields, redacted, and only the names of unknown ones, at any depth', () => {
    expect(journalInput(schema, { name: 'n', secrte: 'S1', creds: { api_key: 'K', scret: 'S2' }, list: [{ id: 'a', pw: 'S3' }], pick: ['x'] })).toEqual({
      name: 'n',
      creds: { api_key: '***' },
      list: [{ id: 'a' }],
      pick: ['x'],
      unknown_fields: ['secrte', 'creds.scret', 'list.0.pw'],
    });
  });
  it('keeps no structure where a scalar goes, and only the type of a non-object input', () => {
    expect(journalInput(schema, { name: { hidden: 'S' } })).toEqual({ name: '[object]' });
    expect(journalInput(schema, 'S')).toEqual({ input_type: 'string' });
    expect(journalInput(schema, [1])).toEqual({ input_type: 'array' });
    expect(journalInput(undefined, { a: 'S' })).toEqual({ unknown_fields: ['a'] });
  });
  it('does not mistake prototype members for fields', () => {
    expect(journalInput(schema, JSON.parse('{"constructor": {"x": "S"}, "__proto__": "S", "toString": 1}'))).toEqual({ unknown_fields: ['constructor', '__proto__', 'toString'] });
  });
  it('works for every registered command\'s schema', () => {
    for (const c of allCommands) expect(() => journalInput(c.input, { ...Object.fromEntries(Object.keys(c.input.shape).map((k) => [k, { deep: ['x'] }])), zz: 1 }), c.name).not.toThrow();
  });
});

describe('storableValue', () => {
  it('replaces what Postgres cannot hold and cuts long text', () => {
    expect(storableValue({ a: 'x\u0000y', ['k\ud800']: ['\udfff'] })).toEqual({ a: 'x\uFFFDy', 'k\uFFFD': ['\uFFFD'] });
    expect((storableValue('a'.repeat(10_000)) as string).length).toBeLessThan(2100);
    expect(storableValue({ n: Number.POSITIVE_INFINITY })).toEqual({ n: 'Infinity' });
  });
});

describe('parseBasicAuth: credentials outside the alphabet are malformed', () => {
  const h = (s: string | Buffer) => `Basic ${Buffer.from(s).toString('base64')}`;
  it.each([h('ad\u0000min:pw'), h('admin:p\u0000w'), h('admin:p\nw'), h(Buffer.from([0x61, 0xff, 0x3a, 0x62]))])('%s → null', (header) => {
    expect(parseBasicAuth(header)).toBeNull();
  });
  it('a non-ASCII UTF-8 password is kept', () => {
    expect(parseBasicAuth(h('admin:pässwörd'))).toEqual({ username: 'admin', password: 'pässwörd' });
  });
});

describe('prompt arguments', () => {
  const { prompts } = loadPrompts();
  const review = prompts.find((p) => p.name === 'portfolio_review')!;
  it('declared choices and patterns are enforced', () => {
    expect(promptArgumentProblems(review, { window: '7d' })).toEqual([]);
    expect(promptArgumentProblems(review, {})).toEqual([]);
    expect(promptArgumentProblems(review, { window: 'bogus' })).toEqual(['window: must be one of 1h, 24h, 7d, 30d, 90d, all']);
    expect(promptArgumentProblems(review, { account_name: 'a b' })[0]).toMatch(/^account_name: does not have the expected form/);
  });
  it('every prompt argument declares choices or a pattern', () => {
    for (const p of prompts) for (const a of p.arguments) expect(a.choices ?? a.pattern, `${p.name}.${a.name}`).toBeDefined();
  });
});
