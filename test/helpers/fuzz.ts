import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { pathParams, type AnyCommand } from '../../src/core/command/index.js';

/**
 * A seeded fuzz over every command of a registry, on both faces, shared by test/security/fuzz.test.ts
 * and scripts/fuzz.ts. It sends hostile inputs (control characters and NUL, lone surrogates, huge and
 * tiny numbers, out-of-range times and cursors, wrong types, structures where scalars go, unknown
 * fields, very long strings, non-object MCP arguments, bad Basic-auth headers) and records every answer
 * that breaks the rules: a 5xx over REST, INTERNAL or a JSON-RPC -32603 over MCP, a bad-auth call that
 * is not a 401. The journal is checked by the caller with the request ids this records.
 */

const NUL = '\u0000';
const controls = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const word = fc.string({ unit: 'grapheme-ascii', maxLength: 12 });

const hostileString = fc.oneof(
  word.map((w) => `${w}${NUL}${w}`),
  fc.tuple(word, controls, word).map(([a, c, b]) => `${a}${c}${b}`),
  fc.tuple(word, loneSurrogate, word).map(([a, s, b]) => `${a}${s}${b}`),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.integer({ min: 1_000, max: 120_000 }).map((n) => 'A'.repeat(n)),
  fc.constantFrom('', ' ', '\t', '\n', '..', '../../etc/passwd', "' OR 1=1 --", '%00', '%', '{{x}}', '<script>', 'NaN', 'Infinity', '-0', '1e400', '0x10', 'null', 'true', '__proto__'),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, -5e-324, 9007199254740992, -9007199254740993, 1e20, 1e21, 8.64e15, 1.5, 126, 1001, 2 ** 31, 2 ** 63),
  fc.double({ noNaN: true }),
  fc.integer(),
);

const hostileTime = fc.constantFrom('99999-01-01', '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z', '0000-01-01', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z', '10000-01-01T00:00:00Z', '9007199254740992', '8640000000000001', '2026-02-30T00:00:00Z', 'yesterday');

const hostileCursor = fc.oneof(
  fc.constantFrom('99999999999999999999', '9007199254740993', '-1', '0', '1.5', '1e3', ' 1'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s).toString('base64url')),
  fc.constantFrom(`2026-01-01T00:00:00.000Z|a${NUL}b`, '-200000-01-01T00:00:00.000Z|ord_1', '99999-01-01T00:00:00.000Z|ord_1', '2026-01-01T00:00:00.000Z|').map((s) => Buffer.from(s).toString('base64url')),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
const hostileStructure = fc.oneof(
  fc.array(leaf, { maxLength: 4 }),
  fc.dictionary(fc.oneof(word, hostileString), leaf, { maxKeys: 4 }),
  fc.constant({ a: { b: { c: { d: { e: { f: [[[[[1]]]]] } } } } } }),
  fc.integer({ min: 1, max: 2000 }).map((n) => Array.from({ length: n }, () => 'x')),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: hostileString }, { weight: 3, arbitrary: hostileNumber }, { weight: 2, arbitrary: hostileTime }, { weight: 1, arbitrary: hostileCursor }, { weight: 2, arbitrary: hostileStructure }, { weight: 1, arbitrary: fc.constantFrom(true, false, null) });

/** A valid value for the usual field names, so that one hostile field gets past the others. */
const VALID: Record<string, unknown[]> = {
  account_name: ['master_account', 'fuzz_account'],
  account_names: ['master_account'],
  connector_name: ['sim', 'sim_perpetual'],
  connector_names: ['sim'],
  trading_pair: ['BTC-USDT', 'ETH-USDT'],
  trading_pairs: ['BTC-USDT'],
  side: ['buy', 'sell'],
  order_type: ['market', 'limit'],
  amount: ['0.001', 0.002],
  price: ['1000', 20_000],
  leverage: [2],
  position_action: ['open', 'close'],
  client_order_id: ['fuzz-1', 'fuzz-2'],
  order_id: ['fuzz-1'],
  limit: [5, '10'],
  status: ['all', 'active'],
  interval: ['1h', '1m'],
  start_time: ['2026-01-01T00:00:00Z'],
  end_time: [Date.UTC(2026, 0, 2)],
  since: ['2026-01-01T00:00:00Z'],
  until: [Date.UTC(2030, 0, 1)],
  depth: [5],
  reason: ['fuzz'],
  username: ['fuzz_user'],
  password: ['fuzz-password-0001'],
  role: ['viewer'],
  mode: ['paper'],
  quote: ['USDT'],
  window: ['24h'],
  search: ['BTC'],
  kind: ['sim'],
  market_type: ['spot'],
  balances: [{ USDT: 100 }],
  connectors: [[{ connector_name: 'sim' }]],
  remove_connectors: [['sim_perpetual']],
  principal: ['admin'],
  command: ['trading_place_order'],
  outcome: ['OK'],
  channel: ['rest'],
};

/** Field names no command has: misspelled secrets, quote-size side channels, prototype keys. */
const UNKNOWN_KEYS = ['secrte', 'api_kee', 'pasword', 'cost', 'quoteOrderQty', 'params', '__proto__', 'constructor', `n${NUL}ul`, 'x\uD800'];

export type FuzzCase =
  | { face: 'rest'; command: string; input: Record<string, unknown>; keepPathKeys: boolean }
  | { face: 'rest-auth'; command: string; authorization: string | null }
  | { face: 'mcp'; command: string; args: unknown };

function inputFor(cmd: AnyCommand): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(cmd.input.shape);
  const field = (k: string) => (VALID[k] ? fc.oneof(fc.constantFrom(...VALID[k]!), hostileValue) : hostileValue);
  const known = fc.record(Object.fromEntries(keys.map((k) => [k, fc.option(field(k), { nil: undefined, freq: 3 })])) as Record<string, fc.Arbitrary<unknown>>);
  const unknown = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...UNKNOWN_KEYS), word), hostileValue), { maxLength: 2 });
  return fc.tuple(known, unknown, fc.boolean()).map(([k, u, withUnknown]) => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(k)) if (v !== undefined) out[key] = v;
    if (withUnknown) for (const [key, v] of u) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

const badAuthorization = fc.oneof(
  fc.constant(null),
  fc.constantFrom('Basic', 'Basic ', 'Basic !!!', 'Bearer abc', 'basic YWRtaW4=', `Basic ${'A'.repeat(6000)}`),
  fc.uint8Array({ maxLength: 48 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
  fc.tuple(word, word, controls).map(([u, p, c]) => `Basic ${Buffer.from(`${u}${c}admin:${p}`).toString('base64')}`),
  fc.constantFrom(`adm${NUL}in:x`, `${NUL}:${NUL}`, 'admin:', ':password', 'admin:wrong-password').map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.constant(`Basic ${Buffer.from([0x61, 0xff, 0xfe, 0x3a, 0x62]).toString('base64')}`),
);

/** The fuzz cases, deterministic for a seed: each command is reached over REST and MCP alike. */
export function fuzzCases(commands: readonly AnyCommand[], seed: number, count: number): FuzzCase[] {
  const anyArgs = fc.oneof(fc.constant(null), fc.array(leaf, { maxLength: 3 }), hostileString, hostileNumber, fc.boolean());
  const one = fc.constantFrom(...commands).chain((cmd) =>
    fc.oneof(
      { weight: 10, arbitrary: fc.tuple(inputFor(cmd), fc.integer({ min: 0, max: 9 })).map(([input, n]): FuzzCase => ({ face: 'rest', command: cmd.name, input, keepPathKeys: n === 0 })) },
      { weight: 1, arbitrary: badAuthorization.map((authorization): FuzzCase => ({ face: 'rest-auth', command: cmd.name, authorization })) },
      { weight: 8, arbitrary: inputFor(cmd).map((args): FuzzCase => ({ face: 'mcp', command: cmd.name, args })) },
      { weight: 2, arbitrary: anyArgs.map((args): FuzzCase => ({ face: 'mcp', command: cmd.name, args })) },
      { weight: 1, arbitrary: fc.tuple(hostileString, inputFor(cmd)).map(([name, args]): FuzzCase => ({ face: 'mcp', command: name, args })) },
    ),
  );
  return fc.sample(one, { seed, numRuns: count });
}

/** Percent-encodes any JS string, lone surrogates included (as the UTF-8 bytes of U+FFFD's neighbours would not be). */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    // A lone surrogate: send the bytes a careless client would (its WTF-8 form), which are not UTF-8.
    return [...s]
      .map((ch) => {
        const c = ch.charCodeAt(0);
        if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) return `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
        return encodeURIComponent(ch);
      })
      .join('');
  }
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
const hasLoneSurrogate = (s: string) => /\p{Cs}/u.test(s);

export interface RestRequest {
  method: string;
  path: string;
  body?: string;
  /** Never reaches a command route, so not journaled: a path that is not UTF-8 or that resolves to another route. */
  preExecute: boolean;
}


/** The HTTP request of a REST case: path parameters in the path, the rest in the query or a JSON body. */
export function restRequest(cmd: AnyCommand, input: Record<string, unknown>, keepPathKeys: boolean): RestRequest {
  const params = pathParams(cmd.http.path);
  const source: Record<string, unknown> = { ...input };
  const query = cmd.http.method === 'GET' || cmd.http.method === 'DELETE';
  let preExecute = false;
  let path = cmd.http.path;
  for (const p of params) {
    const raw = p in input ? asText(input[p]) : String(VALID[p]?.[0] ?? 'x');
    const value = raw.length === 0 ? 'x' : raw;
    path = path.replace(`{${p}}`, encode(value));
    // Not UTF-8 once encoded, or a dot segment the URL resolves away: either way no command route is reached.
    if (hasLoneSurrogate(value) || value === '.' || value === '..') preExecute = true;
    // A path/body conflict is refused by execute() itself (and journaled) like any other bad input.
    if (!keepPathKeys) delete source[p];
  }
  if (query) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(source)) {
      for (const item of Array.isArray(v) ? v : [v]) parts.push(`${encode(k)}=${encode(asText(item))}`);
    }
    return { method: cmd.http.method, path: parts.length ? `${path}?${parts.join('&')}` : path, preExecute };
  }
  return { method: cmd.http.method, path, body: JSON.stringify(source), preExecute };
}

export interface FuzzOutcome {
  /** Inputs sent, by face. */
  sent: { rest: number; auth: number; mcp: number };
  /** REST answers by status; MCP answers by error code ("OK" for a success, "rpc <code>" for a JSON-RPC error). */
  restStatus: Record<string, number>;
  mcpCode: Record<string, number>;
  /** Each broken rule, with the case that broke it. */
  failures: string[];
  /** Request id of every authenticated REST call that must have exactly one journal row. */
  journaledRestIds: string[];
  /** Request id of every call that must have none (bad auth, refused before execute). */
  unjournaledRestIds: string[];
  /** tools/call requests answered (each must have exactly one journal row). */
  mcpCalls: number;
  /** tools/call requests over the HTTP body limit, refused with 413 before any command. */
  mcpTooLarge: number;
  /** Each REST request id with its request and status, for failure messages. */
  restRequests: Map<string, string>;
}

export interface FuzzTarget {
  baseUrl: string;
  commands: readonly AnyCommand[];
  authorization: string;
  mcp: Client;
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

const show = (c: FuzzCase) => {
  const s = JSON.stringify(c, (_k, v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v));
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
};

/** Sends the cases, `concurrency` at a time, and checks each answer; `prefix` tags the REST request ids. */
export async function runFuzz(target: FuzzTarget, cases: readonly FuzzCase[], prefix: string, concurrency = 4): Promise<FuzzOutcome> {
  const byName = new Map(target.commands.map((c) => [c.name, c]));
  const out: FuzzOutcome = { sent: { rest: 0, auth: 0, mcp: 0 }, restStatus: {}, mcpCode: {}, failures: [], journaledRestIds: [], unjournaledRestIds: [], mcpCalls: 0, mcpTooLarge: 0, restRequests: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      try {
        if (c.face === 'mcp') await mcpCase(target, c, out);
        else await restCase(target, byName.get(c.command)!, c, `${prefix}-${i}`, out);
      } catch (err) {
        out.failures.push(`${show(c)} → threw ${String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

async function restCase(t: FuzzTarget, cmd: AnyCommand, c: Extract<FuzzCase, { face: 'rest' | 'rest-auth' }>, id: string, out: FuzzOutcome): Promise<void> {
  const input = c.face === 'rest' ? c.input : { ...Object.fromEntries(pathParams(cmd.http.path).map((p) => [p, VALID[p]?.[0] ?? 'x'])) };
  const req = restRequest(cmd, input, c.face === 'rest' && c.keepPathKeys);
  const headers: Record<string, string> = { 'x-request-id': id };
  const authorization = c.face === 'rest' ? t.authorization : c.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.baseUrl + req.path, { method: req.method, headers, body: req.body });
  const text = await res.text();
  bump(out.restStatus, String(res.status));
  out.restRequests.set(id, `${req.method} ${req.path.slice(0, 200)} ${req.body?.slice(0, 200) ?? ''} → ${res.status} ${text.slice(0, 200)}`);
  if (c.face === 'rest-auth') {
    out.sent.auth++;
    out.unjournaledRestIds.push(id);
    if (res.status !== 401) out.failures.push(`${show(c)} → ${res.status} instead of 401: ${text.slice(0, 200)}`);
    return;
  }
  out.sent.rest++;
  // 431: the URL is longer than Node's HTTP parser takes (16 KB of headers), so no command route was
  // reached. A body over the parser's limit (413) on a command route is journaled like any refusal.
  (req.preExecute || res.status === 431 ? out.unjournaledRestIds : out.journaledRestIds).push(id);
  if (res.status >= 500) out.failures.push(`${req.method} ${req.path.slice(0, 200)} ${req.body?.slice(0, 200) ?? ''} → ${res.status}: ${text.slice(0, 300)}`);
}

async function mcpCase(t: FuzzTarget, c: Extract<FuzzCase, { face: 'mcp' }>, out: FuzzOutcome): Promise<void> {
  out.sent.mcp++;
  try {
    const r = await t.mcp.request({ method: 'tools/call', params: { name: c.command, arguments: c.args as Record<string, unknown> } }, CallToolResultSchema);
    out.mcpCalls++;
    if (!r.isError) return bump(out.mcpCode, 'OK');
    const block = (r.content as Array<{ type: string; text?: string }>).find((b) => b.type === 'text');
    let code = 'UNPARSEABLE';
    try {
      code = JSON.parse(block?.text ?? '').error.code;
    } catch {
      /* counted as UNPARSEABLE */
    }
    bump(out.mcpCode, code);
    if (code === 'INTERNAL' || code === 'UNPARSEABLE') out.failures.push(`mcp ${show(c)} → ${code}: ${block?.text?.slice(0, 300)}`);
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 413) {
      // The HTTP transport's body limit refused the request: an answer, and no command was reached.
      out.mcpTooLarge++;
      return bump(out.mcpCode, 'HTTP 413');
    }
    bump(out.mcpCode, `rpc ${code}`);
    out.failures.push(`mcp ${show(c)} → JSON-RPC error ${code}: ${String(err).slice(0, 300)}`);
  }
}

/** One line for the lead to quote: inputs sent and the answers' histogram. */
export function summaryLine(label: string, o: FuzzOutcome): string {
  const fmt = (m: Record<string, number>) => Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(' ');
  const total = o.sent.rest + o.sent.auth + o.sent.mcp;
  return `fuzz ${label}: ${total} inputs (REST ${o.sent.rest}, bad auth ${o.sent.auth}, MCP ${o.sent.mcp}); REST status ${fmt(o.restStatus)}; MCP ${fmt(o.mcpCode)}; failures ${o.failures.length}`;
}
