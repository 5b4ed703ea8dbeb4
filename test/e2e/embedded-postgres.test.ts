import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../helpers/data-dir.js';
import { freePort } from '../helpers/free-port.js';
import { basicHeader, httpJson } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT, startServeProcess, type ServeProcess as Running } from './dist.js';

/**
 * The embedded database as a user meets it, through the real CLI: a real Postgres started in
 * DATA_DIR/pg on the first start, kept across restarts, found and reused after a crash, shared by a
 * REST server and a stdio MCP server, and stopped by the last of our processes to leave.
 */

/** Starts `tradedesk serve` on `dataDir`, logging at info (the tests read what the embedded database says). */
const startServe = (dataDir: string, extra: Record<string, string> = {}) => startServeProcess({ DATA_DIR: dataDir, ...extra }, 'info');

/** Runs the CLI to its exit. */
function runToExit(args: string[], dataDir: string, extra: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function stop(p: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill(signal);
  await gone;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const pgDir = (dataDir: string) => join(dataDir, 'pg');
const postmasterPid = (dataDir: string): number | undefined => {
  try {
    return Number(readFileSync(join(pgDir(dataDir), 'cluster', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
};
const credentials = (dataDir: string) => JSON.parse(readFileSync(join(pgDir(dataDir), 'credentials.json'), 'utf8')) as { port: number; password: string };
/** The generated admin's login, read from admin-password.txt before the first login removes it. */
const auths = new Map<string, string>();
const adminAuth = (dataDir: string) => {
  if (!auths.has(dataDir)) {
    const text = readFileSync(join(dataDir, 'admin-password.txt'), 'utf8');
    const user = /username:\s*(\S+)/.exec(text)?.[1] ?? 'admin';
    const pass = /password:\s*(\S+)/.exec(text)?.[1];
    expect(pass, text).toBeDefined();
    auths.set(dataDir, basicHeader(user, pass!));
  }
  return auths.get(dataDir)!;
};

async function waitStopped(pid: number): Promise<void> {
  await waitFor(`postgres ${pid} to stop`, () => !alive(pid), { timeoutMs: 20_000, everyMs: 50 });
}

describe('the embedded Postgres through the CLI', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  const newDir = () => {
    const d = tempDataDir('td-e2e-embedded-');
    dirs.push(d);
    return d;
  };
  const serve = async (dataDir: string, extra?: Record<string, string>) => {
    const p = await startServe(dataDir, extra);
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    await ensureBuilt();
  }, 120_000);

  afterAll(async () => {
    for (const p of running) await stop(p, 'SIGKILL');
    for (const d of dirs) {
      // A test that failed halfway may leave its postgres behind.
      const pid = postmasterPid(d);
      if (pid && alive(pid)) {
        process.kill(pid, 'SIGQUIT');
        await waitStopped(pid).catch(() => undefined);
      }
      rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  let shared: string;

  it('a first start initialises a cluster, keeps its port and a generated password (0600), and serves on it', async () => {
    shared = newDir();
    const p = await serve(shared);
    const health = await httpJson(p.url, 'GET', '/health', undefined, null);
    expect(health.body).toMatchObject({ database: 'ok', database_kind: 'postgres' });
    const creds = credentials(shared);
    expect(creds.port).toBeGreaterThan(0);
    expect(creds.password.length).toBeGreaterThanOrEqual(24);
    expect(statSync(join(pgDir(shared), 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(alive(postmasterPid(shared)!)).toBe(true);
    expect((await httpJson(p.url, 'GET', '/accounts', undefined, adminAuth(shared))).status).toBe(200);
    const pid = postmasterPid(shared)!;
    await stop(p);
    // The last one out stops it.
    await waitStopped(pid);
    expect(existsSync(join(pgDir(shared), 'cluster', 'postmaster.pid'))).toBe(false);
  }, 90_000);

  it('a restart starts it again on the same port with the data kept', async () => {
    const port = credentials(shared).port;
    const p = await serve(shared);
    expect(credentials(shared).port).toBe(port);
    const r = await httpJson(p.url, 'POST', '/trading/orders', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, adminAuth(shared));
    expect(r.status, r.text).toBeLessThan(300);
    await stop(p);
    const again = await serve(shared);
    const orders = await httpJson(again.url, 'GET', '/trading/orders?status=all', undefined, adminAuth(shared));
    expect(orders.body.data.length).toBe(1);
    await stop(again);
  }, 90_000);

  it('after a SIGKILL the orphaned postmaster is found and reused, then stopped by the next clean stop', async () => {
    const p = await serve(shared);
    const pid = postmasterPid(shared)!;
    await stop(p, 'SIGKILL');
    expect(alive(pid)).toBe(true); // detached: it outlives the process that started it
    const next = await serve(shared);
    expect(postmasterPid(shared)).toBe(pid);
    expect((await httpJson(next.url, 'GET', '/health', undefined, null)).body.database).toBe('ok');
    await stop(next);
    await waitStopped(pid);
  }, 90_000);

  it('a postmaster.pid left by a dead server is removed and the cluster recovers', async () => {
    const p = await serve(shared);
    const pid = postmasterPid(shared)!;
    await stop(p, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await waitStopped(pid);
    // Its backends notice the postmaster's death and go too; the pid file stays behind.
    expect(postmasterPid(shared)).toBe(pid);
    const next = await serve(shared);
    expect(postmasterPid(shared)).not.toBe(pid);
    const orders = await httpJson(next.url, 'GET', '/trading/orders?status=all', undefined, adminAuth(shared));
    expect(orders.body.data.length).toBe(1);
    await stop(next);
  }, 90_000);

  it('serve and a stdio MCP server share one data dir; reset-admin-password is refused meanwhile; the last one out stops postgres', async () => {
    const p = await serve(shared);
    const pid = postmasterPid(shared)!;
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp'], env: cleanEnv({ DATA_DIR: shared, LOG_LEVEL: 'warn' }), cwd: ROOT, stderr: 'pipe' });
    let mcpErr = '';
    transport.stderr?.on('data', (d: Buffer) => (mcpErr += d.toString()));
    const client = new Client({ name: 'e2e-embedded', version: '1.0.0' });
    await client.connect(transport, { timeout: 60_000 });
    try {
      // The order placed over REST earlier is seen over MCP: one database.
      const res = await client.callTool({ name: 'trading_list_orders', arguments: { status: 'all' } });
      expect(res.isError ?? false, mcpErr).toBe(false);
      expect((res.structuredContent as { data: unknown[] }).data.length).toBe(1);
      expect(postmasterPid(shared)).toBe(pid);

      const reset = await runToExit(['reset-admin-password'], shared);
      expect(reset.code).not.toBe(0);
      expect(reset.stderr).toMatch(/another tradedesk process/);

      // serve leaves first: postgres stays for the MCP server.
      await stop(p);
      expect(alive(pid)).toBe(true);
      const again = await client.callTool({ name: 'trading_list_orders', arguments: { status: 'all' } });
      expect(again.isError ?? false).toBe(false);
    } finally {
      await client.close();
    }
    // The MCP server was the last one out.
    await waitStopped(pid);
    expect(readdirNames(join(shared, 'processes'))).toEqual([]);
    expect(readdirNames(join(pgDir(shared), 'clients'))).toEqual([]);
  }, 120_000);

  it('two servers starting at once on an empty data dir share one cluster and one vault key', async () => {
    const dir = newDir();
    const [a, b] = await Promise.all([serve(dir), serve(dir)]);
    for (const p of [a, b]) expect((await httpJson(p.url, 'GET', '/health', undefined, null)).body.database).toBe('ok');
    expect(readFileSync(join(dir, 'vault.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const pid = postmasterPid(dir)!;
    await stop(a);
    expect(alive(pid)).toBe(true);
    await stop(b);
    await waitStopped(pid);
  }, 120_000);

  it('a PGlite data dir of an earlier version is refused with a clear message unless EMBEDDED_DATABASE=pglite', async () => {
    const dir = newDir();
    const old = await serve(dir, { EMBEDDED_DATABASE: 'pglite' });
    expect((await httpJson(old.url, 'GET', '/health', undefined, null)).body.database_kind).toBe('pglite');
    await stop(old);
    expect(existsSync(join(pgDir(dir), 'PG_VERSION'))).toBe(true);
    const refused = await runToExit(['serve'], dir, { PORT: String(await freePort()) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds a PGlite database from an earlier version/);
    expect(refused.stderr).toContain('EMBEDDED_DATABASE=pglite');
    const kept = await serve(dir, { EMBEDDED_DATABASE: 'pglite' });
    expect((await httpJson(kept.url, 'GET', '/health', undefined, null)).body.database_kind).toBe('pglite');
    await stop(kept);
  }, 120_000);

  it('a start.lock left by a dead process does not block the start', async () => {
    mkdirSync(pgDir(shared), { recursive: true });
    writeFileSync(join(pgDir(shared), 'start.lock'), JSON.stringify({ pid: 999_999_999, at: Date.now() }));
    const p = await serve(shared);
    expect((await httpJson(p.url, 'GET', '/health', undefined, null)).body.database).toBe('ok');
    await stop(p);
  }, 90_000);
});

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
