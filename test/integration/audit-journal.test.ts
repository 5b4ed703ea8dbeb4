import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedAuditLog, type AuditEvent } from '../../src/core/audit/audit-log.js';
import { createLogger } from '../../src/core/logger.js';
import type { Services } from '../../src/app/services.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, testServices, type TestServer } from '../helpers/test-env.js';

type Db = Services['db'];

async function rows(db: Db, q: ReturnType<typeof sql>): Promise<Array<Record<string, unknown>>> {
  return ((await db.execute(q)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
}

const event = (i: number, tag: string, over: Partial<AuditEvent> = {}): AuditEvent => ({
  at: new Date(),
  channel: 'rest',
  principal: 'admin',
  command: 'accounts_list_accounts',
  risk: 'read',
  input: { i },
  outcome: 'OK',
  durationMs: 1,
  requestId: `${tag}-${i}`,
  ...over,
});

/** Rows the journal could not store whole before: each one used to cost its batch. */
const HOSTILE: Array<Partial<AuditEvent>> = [
  { input: { reason: 'a\u0000b' } },
  { input: { ['key\u0000']: 1 } },
  { input: { reason: 'lone \ud800 surrogate' } },
  { principal: 'ad\u0000min', accountName: 'acc\u0000' },
  { detail: { message: '\udfff' } },
  { notional: '1e40' },
  { input: { note: 'x'.repeat(200_000) } },
  { input: JSON.parse('{"__proto__": "not a prototype"}') },
  // Not a number at all: refused by the database even after cleaning; stored in its reduced form.
  { notional: 'not-a-number' },
];

describe.each(drivers())('the audit journal on %s', (driver) => {
  describe('batched writes', () => {
    let env: Awaited<ReturnType<typeof testServices>>;
    beforeAll(async () => {
      env = await testServices(driver);
    });
    afterAll(async () => env?.close());

    it('one bad row never costs another: 300 concurrent rows, some hostile, are all stored', async () => {
      const log = new BatchedAuditLog(env.services.database, createLogger('silent'), 50, 500);
      const events = Array.from({ length: 300 }, (_, i) => event(i, 'batch', i % 10 === 3 ? HOSTILE[Math.floor(i / 10) % HOSTILE.length]! : {}));
      const results = await Promise.allSettled(events.map((e) => log.record(e)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const stored = await rows(env.services.db, sql`select count(*)::int as n from audit_events where request_id like 'batch-%'`);
      expect(stored[0]!.n).toBe(300);
    });

    it('every hostile row is stored, cleaned, and says what it could not keep', async () => {
      const log = new BatchedAuditLog(env.services.database, createLogger('silent'));
      await Promise.all(HOSTILE.map((h, i) => log.record(event(i, 'hostile', h))));
      const stored = await rows(env.services.db, sql`select request_id, principal, account_name, input, detail, notional::text as notional from audit_events where request_id like 'hostile-%' order by request_id`);
      expect(stored).toHaveLength(HOSTILE.length);
      const byId = new Map(stored.map((r) => [r.request_id as string, r]));
      expect(byId.get('hostile-0')!.input).toEqual({ reason: 'a\uFFFDb' });
      expect(byId.get('hostile-1')!.input).toEqual({ 'key\uFFFD': 1 });
      expect(byId.get('hostile-2')!.input).toEqual({ reason: 'lone \uFFFD surrogate' });
      expect(byId.get('hostile-3')).toMatchObject({ principal: 'ad\uFFFDmin', account_name: 'acc\uFFFD' });
      expect(byId.get('hostile-4')!.detail).toEqual({ message: '\uFFFD' });
      expect(byId.get('hostile-5')!.notional).toBe(`1${'0'.repeat(40)}`);
      expect(((byId.get('hostile-6')!.input as { note: string }).note).length).toBeLessThan(2100);
      expect(Object.keys(byId.get('hostile-7')!.input as object)).toEqual(['__proto__']);
      expect(byId.get('hostile-8')).toMatchObject({ input: { unstorable: true }, notional: null, detail: { unstorable: true, notional: 'not-a-number' } });
    });

    it('an intent row is written and completed whatever its input and value', async () => {
      const log = new BatchedAuditLog(env.services.database, createLogger('silent'));
      const id = await log.begin(event(0, 'intent', { command: 'trading_place_order', risk: 'write', input: { amount: '\u0000' }, notional: '123456789012345678901234567890' }));
      await log.complete(id, 'UPSTREAM_REJECTED', 2, { message: 'no\u0000pe' });
      const [r] = await rows(env.services.db, sql`select outcome, notional::text as notional, input, detail from audit_events where id = ${id}`);
      expect(r).toEqual({ outcome: 'UPSTREAM_REJECTED', notional: '123456789012345678901234567890', input: { amount: '\uFFFD' }, detail: { message: 'no\uFFFDpe' } });
    });
  });

  describe('refused calls keep the names of unknown fields, never their values', () => {
    let s: TestServer;
    const SECRET = 'hunter2-TOPSECRET-value';
    beforeAll(async () => {
      s = await testServer(driver);
      const viewer = await s.call('POST', '/users', { username: 'watcher', password: 'watcher-password-1', role: 'viewer' });
      expect(viewer.status).toBe(201);
    });
    afterAll(async () => s?.stop());

    async function journaled(requestId: string): Promise<Record<string, unknown>> {
      await s.services.audit.flush();
      const found = await rows(s.services.db, sql`select input, outcome from audit_events where request_id = ${requestId}`);
      expect(found).toHaveLength(1);
      return found[0]!;
    }

    async function send(method: string, path: string, body: unknown, id: string, auth = ADMIN_AUTH) {
      const res = await fetch(s.url + path, { method, headers: { authorization: auth, 'x-request-id': id, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    }

    it('a misspelled secret field, at the top or inside credentials, is journaled by name only', async () => {
      const r = await send('POST', '/accounts', { account_name: 'leaky', secrte: SECRET, connectors: [{ connector_name: 'binance', credentials: { api_key: 'k-12345678', scret: SECRET } }] }, 'unknown-1');
      expect(r.status).toBe(400);
      const row = await journaled('unknown-1');
      expect(JSON.stringify(row.input)).not.toContain('TOPSECRET');
      expect(row.input).toMatchObject({ account_name: 'leaky', unknown_fields: expect.arrayContaining(['secrte', 'connectors.0.credentials.scret']) });
    });

    it('an unknown field holding a structure, and a known field holding one where text goes, keep no values', async () => {
      const r = await send('POST', '/safety/kill-switch', { reason: { note: SECRET }, extra: { deep: [SECRET] } }, 'unknown-2');
      expect(r.status).toBe(400);
      const row = await journaled('unknown-2');
      expect(JSON.stringify(row.input)).not.toContain('TOPSECRET');
      expect(row.input).toEqual({ reason: '[object]', unknown_fields: ['extra'] });
    });

    it('a call refused before its input is parsed (a viewer calling an admin command) keeps no unknown values', async () => {
      const r = await send('POST', '/users', { username: 'x_user', password: 'long-enough-pass', role: 'admin', tokn: SECRET }, 'unknown-3', basicHeader('watcher', 'watcher-password-1'));
      expect(r.body.error.code).toBe('POLICY_DENIED');
      const row = await journaled('unknown-3');
      expect(JSON.stringify(row.input)).not.toContain('TOPSECRET');
      expect(row.input).toMatchObject({ username: 'x_user', password: '***', unknown_fields: ['tokn'] });
    });

    it('over MCP too, and for a tool that does not exist', async () => {
      const mcp = await mcpClient(s.url, ADMIN_AUTH);
      try {
        expect((await mcpCall(mcp, 'trading_place_order', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', apikey: SECRET })).ok).toBe(false);
        expect((await mcpCall(mcp, 'no_such_tool', { password_hint: SECRET })).ok).toBe(false);
      } finally {
        await mcp.close();
      }
      await s.services.audit.flush();
      const found = await rows(s.services.db, sql`select command, input from audit_events where channel = 'mcp' order by id`);
      expect(found.map((r) => r.command)).toEqual(['trading_place_order', 'no_such_tool']);
      expect(JSON.stringify(found)).not.toContain('TOPSECRET');
      expect(found[0]!.input).toMatchObject({ amount: '0.001', unknown_fields: ['apikey'] });
      expect(found[1]!.input).toEqual({ unknown_fields: ['password_hint'] });
    });
  });
});
