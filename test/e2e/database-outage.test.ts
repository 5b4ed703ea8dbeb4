import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import type { Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { cleanEnv, ensureBuilt, ROOT } from './dist.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { freePort } from '../helpers/free-port.js';
import { postgresBinDir, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { ADMIN, ADMIN_AUTH, httpJson } from '../helpers/test-env.js';
import { testConfig } from '../helpers/config.js';

/**
 * Pulls the database out from under a running server: a private Postgres cluster (never the shared one)
 * is stopped with `pg_ctl stop -m immediate` while orders and reads run over REST and MCP, then started
 * again. The server must stay up, answer 503 UPSTREAM_UNAVAILABLE (retryable) to every call meanwhile,
 * say so on /health, and serve again by itself once the database is back, with every order placed
 * exactly once thanks to client_order_id retries.
 */

const BIN = postgresBinDir();
const REQUIRED = process.env.REQUIRE_SERVICES === '1';
const OUTAGE_MS = 4000;
const RECOVERY_DEADLINE_MS = 30_000;
/** The pause between two requests of one load worker, so an outage does not become a busy loop. */
const PACE_MS = 40;
/** One key for both servers: they share the private database, which remembers the key's fingerprint. */
const VAULT_KEY = randomBytes(32).toString('hex');

type Face = 'rest' | 'mcp';
type Kind = 'order' | 'read';

/** One answer as both faces give it: ok, or the error code with its retryable flag and hint. */
interface Answer {
  face: Face;
  kind: Kind;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** HTTP status (REST), or 'mcp-ok' / 'mcp-error'. */
  status: string;
  code?: string;
  retryable?: boolean;
  hint?: string;
  retryAfter?: string | null;
  orderId?: string;
  /** The order's status in a successful order answer. */
  orderStatus?: string;
  /** The request id the answer carries (every REST answer, an MCP error), to find its journal row. */
  requestId?: string;
  transportError?: string;
}

const ORDER = { account_name: 'master_account', connector_name: 'sim', trading_pair: 'BTC-USDT', order_type: 'market', amount: '0.001' };

/** Calls against one server on both faces, each turned into an Answer. */
function faces(url: string, mcp: Client) {
  const rest = async (kind: Kind, method: string, path: string, body?: unknown): Promise<Answer> => {
    const startedAt = Date.now();
    try {
      const r = await httpJson(url, method, path, body, ADMIN_AUTH);
      const ok = r.status < 300;
      return {
        face: 'rest',
        kind,
        startedAt,
        endedAt: Date.now(),
        ok,
        status: String(r.status),
        requestId: r.headers.get('x-request-id') ?? undefined,
        ...(ok ? { orderId: r.body?.order?.order_id, orderStatus: r.body?.order?.status } : { code: r.body?.error?.code, retryable: r.body?.error?.retryable, hint: r.body?.error?.hint, retryAfter: r.headers.get('retry-after') }),
      };
    } catch (err) {
      return { face: 'rest', kind, startedAt, endedAt: Date.now(), ok: false, status: 'transport', transportError: String(err) };
    }
  };
  const tool = async (kind: Kind, name: string, args: Record<string, unknown>): Promise<Answer> => {
    const startedAt = Date.now();
    try {
      const r = await mcpCall(mcp, name, args);
      if (r.ok) return { face: 'mcp', kind, startedAt, endedAt: Date.now(), ok: true, status: 'mcp-ok', orderId: r.output?.order?.order_id, orderStatus: r.output?.order?.status };
      return { face: 'mcp', kind, startedAt, endedAt: Date.now(), ok: false, status: 'mcp-error', code: r.code, retryable: r.error.retryable, hint: r.error.hint, requestId: r.error.request_id };
    } catch (err) {
      return { face: 'mcp', kind, startedAt, endedAt: Date.now(), ok: false, status: 'transport', transportError: String(err) };
    }
  };
  return {
    order: (face: Face, cid: string, side: 'buy' | 'sell') =>
      face === 'rest' ? rest('order', 'POST', '/trading/orders', { ...ORDER, side, client_order_id: cid }) : tool('order', 'trading_place_order', { ...ORDER, side, client_order_id: cid }),
    read: (face: Face, n: number) =>
      face === 'rest'
        ? rest('read', 'GET', n % 2 ? '/accounts/master_account/balances?connector_name=sim' : '/trading/orders?limit=5')
        : tool('read', n % 2 ? 'accounts_get_balances' : 'trading_list_orders', n % 2 ? { account_name: 'master_account', connector_name: 'sim' } : { limit: 5 }),
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; past the deadline the test fails with `what`. */
async function until(what: string, deadlineMs: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await pause(50);
  }
  return Date.now() - t0;
}

/**
 * Order and read load on both faces until `stop()`: each order worker retries its current order with the
 * same client_order_id until it succeeds, as a careful client would, then moves on to a new one.
 */
function startLoad(api: ReturnType<typeof faces>, prefix: string) {
  const answers: Answer[] = [];
  // client_order_id -> the order ids answered for it, and the status the last answer gave
  const placed = new Map<string, { ids: Set<string>; status: string }>();
  let running = true;
  const orderWorker = async (face: Face) => {
    for (let n = 0; running; n++) {
      const cid = `${prefix}-${face}-${n}`;
      for (;;) {
        const a = await api.order(face, cid, n % 2 ? 'sell' : 'buy');
        answers.push(a);
        if (a.ok) {
          const seen = placed.get(cid) ?? { ids: new Set<string>(), status: '' };
          seen.ids.add(a.orderId!);
          seen.status = a.orderStatus!;
          placed.set(cid, seen);
          break;
        }
        // Only a retryable refusal is worth the same order again; anything else is a failure to report.
        if (!a.retryable) break;
        await pause(PACE_MS);
      }
      await pause(PACE_MS);
    }
  };
  const readWorker = async (face: Face) => {
    for (let n = 0; running; n++) {
      answers.push(await api.read(face, n));
      await pause(PACE_MS);
    }
  };
  const workers = [orderWorker('rest'), orderWorker('mcp'), readWorker('rest'), readWorker('mcp')];
  return {
    answers,
    placed,
    /** Lets each worker finish its current order (retrying it until it is placed), then waits for them. */
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Whether each face has served both an order and a read that started at or after `since`. */
const servedAgain = (answers: Answer[], since: number) =>
  (['rest', 'mcp'] as const).every((face) => (['order', 'read'] as const).every((kind) => answers.some((a) => a.face === face && a.kind === kind && a.ok && a.startedAt >= since)));

/** The time from `since` until every face served both an order and a read again. */
function recoveryMs(answers: Answer[], since: number): number {
  let worst = 0;
  for (const face of ['rest', 'mcp'] as const) {
    for (const kind of ['order', 'read'] as const) {
      const first = answers.filter((a) => a.face === face && a.kind === kind && a.ok && a.startedAt >= since).sort((a, b) => a.endedAt - b.endedAt)[0];
      if (first) worst = Math.max(worst, first.endedAt - since);
    }
  }
  return worst;
}

function histogram(answers: Answer[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const a of answers) {
    const key = a.ok ? `${a.face} ok` : `${a.face} ${a.status} ${a.code ?? a.transportError ?? ''}`.trim();
    h[key] = (h[key] ?? 0) + 1;
  }
  return h;
}

/** Every refusal must be the database-outage answer: 503-class, retryable, with the hint (and Retry-After on REST). */
function expectOutageAnswers(answers: Answer[]) {
  for (const a of answers.filter((x) => !x.ok)) {
    const where = `${a.face} ${a.kind}: ${JSON.stringify(a)}`;
    expect(a.code, where).toBe('UPSTREAM_UNAVAILABLE');
    expect(a.retryable, where).toBe(true);
    expect(a.hint, where).toMatch(/database is unreachable/i);
    if (a.face === 'rest') {
      expect(a.status, where).toBe('503');
      expect(Number(a.retryAfter), where).toBeGreaterThan(0);
    }
  }
}

/**
 * Each client_order_id is one stored order, and every answer for it named that order. An order is
 * either filled or, when the outage cut off its execution, failed with nothing executed, which its
 * retry said; none is left pending for ever.
 */
async function expectEachOrderOnce(url: string, placed: Map<string, { ids: Set<string>; status: string }>, prefix: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ client_order_id: string; n: number; status: string; filled: string }>(
      `select client_order_id, count(*)::int as n, min(status) as status, sum(filled_amount)::text as filled from orders where client_order_id like $1 group by client_order_id`,
      [`${prefix}-%`],
    );
    const stored = new Map(rows.map((r) => [r.client_order_id, r]));
    for (const [cid, { ids, status }] of placed) {
      expect(ids.size, `${cid} was answered with different orders: ${[...ids].join(', ')}`).toBe(1);
      const row = stored.get(cid);
      expect(row, `${cid} was answered as placed but is not stored`).toBeDefined();
      expect(row!.n, `${cid} is stored ${row!.n} times`).toBe(1);
      expect(['filled', 'failed'], `${cid} was left ${row!.status}`).toContain(row!.status);
      expect(status, `${cid}: the last answer said ${status}, the database has ${row!.status}`).toBe(row!.status);
      if (row!.status === 'failed') expect(Number(row!.filled), `${cid} failed but has fills`).toBe(0);
    }
    // Nothing stored that the client was never told about.
    expect([...stored.keys()].filter((cid) => !placed.has(cid))).toEqual([]);
    return { stored: rows.length, interrupted: rows.filter((r) => r.status === 'failed').length };
  } finally {
    await c.end();
  }
}

/**
 * Every refused call of the outage has its journal row once the database is back: the rows that could
 * not be written then are kept and written later. Polls until they are all there, or fails.
 */
async function expectJournaled(url: string, answers: Answer[]) {
  const ids = answers.filter((a) => !a.ok).map((a) => a.requestId);
  expect(ids.every((id) => typeof id === 'string')).toBe(true);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    let missing: string[] = [];
    await until('the outage\'s journal rows to be written', 15_000, async () => {
      const { rows } = await c.query<{ request_id: string }>('select distinct request_id from audit_events where request_id = any($1)', [ids]);
      const found = new Set(rows.map((r) => r.request_id));
      missing = (ids as string[]).filter((id) => !found.has(id));
      return missing.length === 0;
    });
    return ids.length;
  } finally {
    await c.end();
  }
}

/** The in-process server's config on the private cluster (server mode, env admin). */
function serverConfig(databaseUrl: string, dataDir: string): Config {
  return testConfig({ dataDir, databaseUrl, admin: ADMIN, vaultKey: VAULT_KEY });
}

describe.skipIf(!BIN && !REQUIRED)('a database outage under load', () => {
  let db: PrivatePostgres;
  const dataDir = mkdtempSync(join(tmpdir(), 'td-outage-'));

  beforeAll(async () => {
    if (!BIN) throw new Error('REQUIRE_SERVICES=1 but no PostgreSQL server binaries under /usr/lib/postgresql: run scripts/services.sh');
    db = await startPrivatePostgres(BIN);
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('in process, over REST and MCP', () => {
    let server: RunningServer;
    let mcp: Client;

    beforeAll(async () => {
      server = await startServer(serverConfig(db.url, join(dataDir, 'in-process')), createLogger('silent'));
      mcp = await mcpClient(server.url, ADMIN_AUTH, 'outage');
    });
    afterAll(async () => {
      await mcp?.close().catch(() => undefined);
      await server?.close();
    });

    it('answers 503 UPSTREAM_UNAVAILABLE through the outage, says so on /health, and recovers by itself with every order placed once', async () => {
      const api = faces(server.url, mcp);
      const health = () => httpJson(server.url, 'GET', '/health', undefined, null);
      expect((await health()).body).toMatchObject({ status: 'ok', database: 'ok', database_kind: 'postgres' });
      // A resting order gives the matcher work to do through the outage.
      const resting = await httpJson(server.url, 'POST', '/trading/orders', { ...ORDER, order_type: 'limit', side: 'buy', amount: '0.01', price: '1000', client_order_id: 'resting-1' });
      expect(resting.status, JSON.stringify(resting.body)).toBe(201);

      const load = startLoad(api, 'outage');
      await until('load to run on both faces', 10_000, () => servedAgain(load.answers, 0));

      await db.stop();
      const downAt = Date.now();
      const unreachable = await until('/health to report the database unreachable', 5000, async () => {
        const h = await health();
        return h.status === 503 && h.body.database === 'unreachable';
      });
      const live = await httpJson(server.url, 'GET', '/health/live', undefined, null);
      expect(live.status).toBe(200);
      await until('requests on every face during the outage', OUTAGE_MS + 5000, () => {
        const during = load.answers.filter((a) => a.startedAt >= downAt);
        return Date.now() - downAt >= OUTAGE_MS && (['rest', 'mcp'] as const).every((f) => (['order', 'read'] as const).every((k) => during.some((a) => a.face === f && a.kind === k)));
      });
      const upAt = Date.now();
      const during = load.answers.filter((a) => a.startedAt >= downAt && a.endedAt <= upAt);
      await db.start();
      const restartedAt = Date.now();

      await until('orders and reads to succeed again on both faces', RECOVERY_DEADLINE_MS, () => servedAgain(load.answers, restartedAt));
      await until('/health to report the database ok again', RECOVERY_DEADLINE_MS, async () => (await health()).status === 200);
      await load.stop();

      const recovery = recoveryMs(load.answers, restartedAt);
      console.log(
        `[database outage, in process] outage ${upAt - downAt} ms; /health said unreachable after ${unreachable} ms; ` +
          `${during.length} requests during the outage: ${JSON.stringify(histogram(during))}; ` +
          `all requests: ${load.answers.length} ${JSON.stringify(histogram(load.answers))}; ` +
          `recovery after restart ${recovery} ms; orders placed ${load.placed.size}`,
      );

      // During the outage nothing succeeds and every answer is the outage answer; around it too, no 429 or 500.
      expect(during.length).toBeGreaterThan(0);
      expect(during.filter((a) => a.ok)).toEqual([]);
      expectOutageAnswers(load.answers);
      const journaled = await expectJournaled(db.url, load.answers);
      console.log(`[database outage, in process] all ${journaled} refused calls have their journal row after recovery`);
      const { stored, interrupted } = await expectEachOrderOnce(db.url, load.placed, 'outage');
      expect(stored).toBe(load.placed.size);
      console.log(`[database outage, in process] ${interrupted} of ${stored} orders were cut off by the outage and answered as failed on retry`);
      // The process is up and serves as before.
      expect((await health()).body).toMatchObject({ status: 'ok', database: 'ok' });
    });
  });

  describe('the built CLI (node dist/main.js serve)', () => {
    let child: ChildProcess | undefined;
    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child!.once('exit', () => r()));
        child.kill('SIGKILL');
        await gone;
      }
    });

    it('does not exit when the database goes away, and serves again when it is back', async () => {
      const main = await ensureBuilt();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [main, 'serve'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: cleanEnv({
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: join(dataDir, 'cli'),
          DATABASE_URL: db.url,
          MQTT_PORT: String(await freePort()),
          API_USERNAME: ADMIN.username,
          API_PASSWORD: ADMIN.password,
          VAULT_KEY,
          LOG_LEVEL: 'warn',
        }),
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = () => child!.exitCode !== null || child!.signalCode !== null;
      await until('the CLI to listen', 60_000, async () => {
        if (exited()) throw new Error(`tradedesk serve exited with ${child!.exitCode}: ${output}`);
        return (await fetch(`${url}/health`).catch(() => null))?.status === 200;
      });
      const mcp = await mcpClient(url, ADMIN_AUTH, 'outage-cli');
      try {
        const load = startLoad(faces(url, mcp), 'cli');
        await until('load to run on both faces', 10_000, () => servedAgain(load.answers, 0));
        await db.stop();
        const downAt = Date.now();
        await until('requests on every face during the outage', OUTAGE_MS + 5000, () => {
          const during = load.answers.filter((a) => a.startedAt >= downAt);
          return Date.now() - downAt >= OUTAGE_MS && (['rest', 'mcp'] as const).every((f) => (['order', 'read'] as const).every((k) => during.some((a) => a.face === f && a.kind === k)));
        });
        expect(exited(), output).toBe(false);
        const h = await httpJson(url, 'GET', '/health', undefined, null);
        expect(h.status).toBe(503);
        expect(h.body.database).toBe('unreachable');
        expect((await httpJson(url, 'GET', '/health/live', undefined, null)).status).toBe(200);
        await db.start();
        const restartedAt = Date.now();
        await until('the CLI to serve orders and reads again on both faces', RECOVERY_DEADLINE_MS, () => {
          if (exited()) throw new Error(`tradedesk serve exited with ${child!.exitCode}: ${output}`);
          return servedAgain(load.answers, restartedAt);
        });
        await load.stop();
        console.log(
          `[database outage, dist CLI] ${load.answers.length} requests ${JSON.stringify(histogram(load.answers))}; ` +
            `recovery after restart ${recoveryMs(load.answers, restartedAt)} ms; orders placed ${load.placed.size}; process exit code ${child.exitCode}`,
        );
        expectOutageAnswers(load.answers);
        await expectEachOrderOnce(db.url, load.placed, 'cli');
        await expectJournaled(db.url, load.answers);
      } finally {
        await mcp.close().catch(() => undefined);
      }
      expect(exited(), output).toBe(false);
      expect(output).not.toMatch(/Unhandled 'error' event|unhandled promise rejection|uncaughtException/i);
      // A clean stop still works after the outage.
      const gone = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await gone).toBe(0);
    });
  });
});
