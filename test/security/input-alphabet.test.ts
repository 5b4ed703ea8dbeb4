import { sql } from 'drizzle-orm';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, httpJson, testServer, type HttpAnswer, type TestServer } from '../helpers/test-env.js';

/**
 * The input alphabet and ranges: a NUL, another control character or a lone surrogate in any string,
 * a time outside 1970..9999, a cursor outside what a page can return, a number that fits the schema but
 * not a column: each is a 400 naming the field (an MCP VALIDATION_FAILED), never a 500, and each call
 * still leaves its one journal row.
 */
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const ORDER = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };

interface Case {
  why: string;
  method: string;
  path: string;
  body?: unknown;
  /** The field path details.issues must name. */
  issue: string;
}

const CASES: Case[] = [
  // NUL and friends in every kind of free text that reaches Postgres.
  { why: 'NUL in an order id', method: 'GET', path: '/trading/orders/ab%00c', issue: 'order_id' },
  { why: 'NUL in an order id to cancel', method: 'DELETE', path: '/trading/orders/ab%00c', issue: 'order_id' },
  { why: 'NUL in a fills filter', method: 'GET', path: '/trading/history?order_id=a%00b', issue: 'order_id' },
  { why: 'NUL in a kill-switch reason', method: 'POST', path: '/safety/kill-switch', body: { account_name: 'master_account', reason: 'stop\u0000now' }, issue: 'reason' },
  { why: 'lone surrogate in a kill-switch reason', method: 'POST', path: '/safety/kill-switch', body: { account_name: 'master_account', reason: 'stop \ud800 now' }, issue: 'reason' },
  { why: 'escape character in a kill-switch reason', method: 'POST', path: '/safety/kill-switch', body: { account_name: 'master_account', reason: 'stop \u001b[2J now' }, issue: 'reason' },
  { why: 'NUL in a credential', method: 'POST', path: '/accounts', body: { account_name: 'alpha_1', connectors: [{ connector_name: 'binance', credentials: { api_key: 'key\u0000key-123', secret: 'secret-123456' } }] }, issue: 'connectors.0.credentials.api_key' },
  { why: 'NUL in a password', method: 'POST', path: '/users', body: { username: 'alpha_user', password: 'long-password\u0000x', role: 'viewer' }, issue: 'password' },
  { why: 'NUL in a market search', method: 'GET', path: '/connectors/sim/markets?search=BT%00C', issue: 'search' },
  { why: 'control character in a connector search', method: 'GET', path: '/connectors?search=bin%07ance', issue: 'search' },
  { why: 'NUL in a confirmation token', method: 'POST', path: '/trading/orders', body: { ...ORDER, confirmation_token: 'tok\u0000en' }, issue: 'confirmation_token' },
  { why: 'NUL in an unknown field', method: 'POST', path: '/trading/orders', body: { ...ORDER, note: 'a\u0000b' }, issue: 'note' },
  { why: 'NUL in an unknown field name', method: 'GET', path: '/accounts?a%00b=1', issue: 'a?b' },
  // Times outside 1970..9999.
  { why: 'five-digit year', method: 'GET', path: '/audit/events?since=99999-01-01', issue: 'since' },
  { why: 'extended year', method: 'GET', path: '/audit/events?until=%2B275760-09-13T00:00:00Z', issue: 'until' },
  { why: 'time beyond a safe integer', method: 'GET', path: '/market-data/candles/BTC-USDT?connector_name=sim&end_time=9007199254740992', issue: 'end_time' },
  { why: 'time beyond year 9999', method: 'GET', path: '/portfolio/history?end_time=253402300800000', issue: 'end_time' },
  { why: 'time before 1970', method: 'GET', path: '/portfolio/history?start_time=1969-12-31T23:59:59Z', issue: 'start_time' },
  // Cursors that no page returns.
  { why: 'fills cursor beyond bigint', method: 'GET', path: '/trading/history?cursor=99999999999999999999', issue: 'cursor' },
  { why: 'audit cursor beyond a safe integer', method: 'GET', path: '/audit/events?cursor=9007199254740993', issue: 'cursor' },
  { why: 'order cursor holding a NUL', method: 'GET', path: `/trading/orders?cursor=${b64('2026-01-01T00:00:00.000Z|a\u0000b')}`, issue: 'cursor' },
  { why: 'order cursor with a year before Postgres', method: 'GET', path: `/trading/orders?cursor=${b64('-200000-01-01T00:00:00.000Z|ord_1')}`, issue: 'cursor' },
  { why: 'order cursor with a five-digit year', method: 'GET', path: `/trading/orders?cursor=${b64('+99999-01-01T00:00:00.000Z|ord_1')}`, issue: 'cursor' },
  { why: 'order cursor in year 0, which Postgres does not have', method: 'GET', path: `/trading/orders?cursor=${b64('0000-01-01T00:00:00.000Z|ord_1')}`, issue: 'cursor' },
  { why: 'executor cursor with an extended year', method: 'GET', path: `/executors?cursor=${b64('+275000-01-01T00:00:00.000Z|x')}`, issue: 'cursor' },
  { why: 'executor cursor with a negative year', method: 'GET', path: `/executors?cursor=${b64('-000001-01-01T00:00:00.000Z|x')}`, issue: 'cursor' },
  { why: 'executor cursor holding a NUL', method: 'GET', path: `/executors?cursor=${b64('2026-12-04T16:34:57.665Z|a\u0000b')}`, issue: 'cursor' },
  { why: 'controller config cursor past the last date', method: 'GET', path: `/controllers/configs?cursor=${b64('9000000000000000|cfg_qXyOT_WbO8VZ-rmm')}`, issue: 'cursor' },
  { why: 'job cursor past the last date', method: 'GET', path: `/jobs?cursor=${b64('9000000000000000|job_qXyOT_WbO8VZ-rmm')}`, issue: 'cursor' },
  { why: 'approval cursor past the last date', method: 'GET', path: `/trading/approvals?cursor=${b64('9000000000000000|apr_qXyOT_WbO8VZ-rmm')}`, issue: 'cursor' },
  { why: 'bot cursor past the last date', method: 'GET', path: `/bot-orchestration/bots?cursor=${b64('9000000000000000|bot-1')}`, issue: 'cursor' },
  { why: 'bot cursor holding a NUL', method: 'GET', path: `/bot-orchestration/bots?cursor=${b64('1700000000000|a\u0000b')}`, issue: 'cursor' },
];

async function rows(s: TestServer, q: ReturnType<typeof sql>): Promise<Array<Record<string, unknown>>> {
  return ((await s.services.db.execute(q)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
}

function expect400(r: HttpAnswer, issue: string, what: string): void {
  expect(r.status, `${what}: ${r.text.slice(0, 300)}`).toBe(400);
  expect(r.body.error.code).toBe('VALIDATION_FAILED');
  expect((r.body.error.details.issues as Array<{ path: string }>).map((i) => i.path), what).toContain(issue);
}

describe.each(drivers())('input alphabet and ranges on %s', (driver) => {
  let s: TestServer;
  let mcp: Client;
  beforeAll(async () => {
    s = await testServer(driver);
    mcp = await mcpClient(s.url, ADMIN_AUTH);
  });
  afterAll(async () => {
    await mcp?.close();
    await s?.stop();
  });

  it.each(CASES)('REST: $why is a 400 naming the field, with one journal row', async (c) => {
    const id = `alpha-${c.why.replace(/[^a-z0-9]+/gi, '-')}`;
    const res = await fetch(s.url + c.path, {
      method: c.method,
      headers: { authorization: ADMIN_AUTH, 'x-request-id': id, ...(c.body ? { 'content-type': 'application/json' } : {}) },
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
    });
    const text = await res.text();
    expect400({ status: res.status, body: JSON.parse(text), text, headers: res.headers }, c.issue, c.why);
    await s.services.audit.flush();
    const [r] = await rows(s, sql`select count(*)::int as n, min(outcome) as outcome from audit_events where request_id = ${id}`);
    expect(r).toEqual({ n: 1, outcome: 'VALIDATION_FAILED' });
  });

  it('MCP: the same inputs as tool arguments are VALIDATION_FAILED naming the field', async () => {
    const calls: Array<[string, Record<string, unknown>, string]> = [
      ['trading_get_order', { order_id: 'ab\u0000c' }, 'order_id'],
      ['trading_cancel_order', { order_id: 'x\ud83d' }, 'order_id'],
      ['safety_set_kill_switch', { reason: 'a\u0000b' }, 'reason'],
      ['audit_search_events', { since: '99999-01-01' }, 'since'],
      ['market_data_get_candles', { connector_name: 'sim', trading_pair: 'BTC-USDT', end_time: 9007199254740992 }, 'end_time'],
      ['trading_list_fills', { cursor: '99999999999999999999' }, 'cursor'],
      ['connectors_list_markets', { connector_name: 'sim', search: '\u0000' }, 'search'],
    ];
    for (const [tool, args, issue] of calls) {
      const r = await mcpCall(mcp, tool, args);
      expect(r.ok ? 'ok' : r.code, tool).toBe('VALIDATION_FAILED');
      if (!r.ok) expect((r.error.details.issues as Array<{ path: string }>).map((i) => i.path), tool).toContain(issue);
    }
  });

  it('the cursors a page returns are accepted by the next call (orders, fills, journal, executors, controller configs)', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await s.call('POST', '/trading/orders', { ...ORDER, client_order_id: `page-${i}` })).status).toBe(201);
      const resting = { type: 'order', id: `page-ex-${i}`, connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', execution_strategy: 'limit', price: '1000' };
      const ex = await s.call('POST', '/executors', { executor_config: resting });
      expect(ex.status, ex.text).toBe(201);
      const cfg = await s.call('POST', '/controllers/pmm_simple/configs', { name: `page-cfg-${i}`, config: { connector_name: 'sim', trading_pair: 'BTC-USDT' } });
      expect(cfg.status, cfg.text).toBe(201);
    }
    for (const path of ['/trading/orders?status=all&limit=1', '/trading/history?limit=1', '/audit/events?limit=1', '/executors?limit=1', '/controllers/configs?limit=1']) {
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: HttpAnswer = await s.call('GET', cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
        expect(r.status, `${path} page ${pages}: ${r.text.slice(0, 200)}`).toBe(200);
        cursor = r.body.pagination.next_cursor;
        pages++;
      } while (cursor && pages < 3);
      expect(pages, path).toBe(3);
    }
  });

  it('a NUL in a Basic-auth username is a 401, not a 500', async () => {
    for (const creds of ['ad\u0000min:x', '\u0000:\u0000', `admin\u0000:test-admin-password`]) {
      const r = await httpJson(s.url, 'GET', '/accounts', undefined, `Basic ${Buffer.from(creds).toString('base64')}`);
      expect(r.status, JSON.stringify(creds)).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    }
    const notUtf8 = await httpJson(s.url, 'GET', '/accounts', undefined, `Basic ${Buffer.from([0x61, 0xff, 0x3a, 0x62]).toString('base64')}`);
    expect(notUtf8.status).toBe(401);
    expect((await s.call('GET', '/accounts', undefined, basicHeader('admin', 'test-admin-password'))).status).toBe(200);
  });

  it('an order worth more than numeric(38,18) holds is refused with a 4xx and journaled with its value', async () => {
    const id = 'alpha-huge-order';
    const body = { ...ORDER, order_type: 'limit', amount: '1', price: '99999999999999999999' };
    const res = await fetch(`${s.url}/trading/orders`, { method: 'POST', headers: { authorization: ADMIN_AUTH, 'x-request-id': id, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as { error: { code: string; details: { reason: string } } };
    // The paper account cannot pay for it; before, the journal's numeric(38,18) overflowed into a 500.
    expect(res.status, JSON.stringify(answer)).toBe(422);
    expect(answer.error).toMatchObject({ code: 'UPSTREAM_REJECTED', details: { reason: 'insufficient_funds' } });
    await s.services.audit.flush();
    const journaled = await rows(s, sql`select outcome, notional::text as notional from audit_events where request_id = ${id}`);
    expect(journaled).toHaveLength(1);
    expect(journaled[0]!.outcome).toBe('UPSTREAM_REJECTED');
    expect(Number(journaled[0]!.notional)).toBeGreaterThanOrEqual(1e20);
  });
});
