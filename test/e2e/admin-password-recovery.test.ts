import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/app/server.js';
import { createLogger } from '../../src/core/logger.js';
import { basicHeader, testEnv, type TestEnv } from '../helpers/test-env.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from './dist.js';

/**
 * The generated admin password cannot be lost: it is in DATA_DIR/admin-password.txt (0600) from before
 * the server listens until that admin's first login, and `tradedesk reset-admin-password` sets a new
 * one while no server runs. Everything here runs the built CLI.
 */

const FILE = 'admin-password.txt';

interface Exited {
  code: number | null;
  stderr: string;
}

/** Runs the CLI to its end; fails the test if it has not exited within the deadline. */
function runCli(args: string[], env: Record<string, string>, deadlineMs = 60_000): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv({ LOG_LEVEL: 'warn', ...env }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tradedesk ${args.join(' ')} did not exit within ${deadlineMs} ms; stderr: ${stderr}`));
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

interface Serving {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `tradedesk serve` on a free port and resolves once it logs that it listens. */
async function serve(env: Record<string, string>, deadlineMs = 60_000): Promise<Serving> {
  const port = await freePort();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'serve'], { env: cleanEnv({ LOG_LEVEL: 'info', PORT: String(port), ...env }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const closed = new Promise<void>((r) => child.on('close', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not listen within ${deadlineMs} ms; stderr: ${stderr}`));
    }, deadlineMs);
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /"msg":"listening".*?"url":"([^"]+)"/.exec(stderr)?.[1];
      if (url) {
        clearTimeout(timer);
        const stop = async () => {
          child.kill('SIGTERM');
          await closed;
        };
        resolve({ child, url, stderr: () => stderr, stop });
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
}

const passwordIn = (text: string) => /^ +password: (\S+)$/m.exec(text)?.[1];
const status = async (url: string, user: string, password: string) => (await fetch(`${url}/accounts`, { headers: { authorization: basicHeader(user, password) } })).status;

function expectPrivateFile(path: string, password: string, username = 'admin'): void {
  expect(existsSync(path)).toBe(true);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(`username: ${username}\n`);
  expect(text).toContain(`password: ${password}\n`);
}

describe('generated admin password recovery (embedded, built CLI)', () => {
  let env: TestEnv;
  let cliEnv: Record<string, string>;
  let file: string;
  let blocker: Server;
  let first: string;

  beforeAll(async () => {
    await ensureBuilt();
    env = await testEnv('postgres', { apiUsername: undefined, apiPassword: undefined });
    cliEnv = { DATA_DIR: env.dataDir, VAULT_KEY: env.config.vaultKey!, HOST: '127.0.0.1' };
    file = join(env.dataDir, FILE);
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  }, 120_000);
  afterAll(async () => {
    await new Promise((r) => blocker?.close(r));
    await env?.cleanup();
  });

  it('a first start that fails to listen (port in use) has printed the password and left it in the 0600 file', async () => {
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['serve'], { ...cliEnv, PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot start/);
    first = passwordIn(r.stderr)!;
    expect(first).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(r.stderr).toContain(file);
    expectPrivateFile(file, first);
  }, 90_000);

  it('the next start keeps that admin and file; the first login of that admin removes the file', async () => {
    const s = await serve(cliEnv);
    try {
      expect(passwordIn(s.stderr())).toBeUndefined(); // not generated again
      expect(await status(s.url, 'admin', 'wrong-password-x')).toBe(401);
      expect(existsSync(file)).toBe(true); // a failed login leaves it
      expect(await status(s.url, 'admin', first)).toBe(200);
      expect(existsSync(file)).toBe(false);
      expect(await status(s.url, 'admin', first)).toBe(200);
    } finally {
      await s.stop();
    }
  }, 90_000);

  it('reset-admin-password is refused while a server holds the embedded data dir', async () => {
    const s = await serve(cliEnv);
    try {
      const r = await runCli(['reset-admin-password'], cliEnv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reset the admin password: another tradedesk process/);
      expect(passwordIn(r.stderr)).toBeUndefined();
      expect(await status(s.url, 'admin', first)).toBe(200);
    } finally {
      await s.stop();
    }
  }, 90_000);

  it('reset-admin-password sets a new password, prints it once, writes the file; the old one stops working', async () => {
    const r = await runCli(['reset-admin-password'], cliEnv);
    expect(r.code, r.stderr).toBe(0);
    const fresh = passwordIn(r.stderr)!;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(fresh).not.toBe(first);
    expect(r.stderr.match(/^ +password: /gm)).toHaveLength(1);
    expectPrivateFile(file, fresh);
    const s = await serve(cliEnv);
    try {
      expect(await status(s.url, 'admin', first)).toBe(401);
      expect(await status(s.url, 'admin', fresh)).toBe(200);
      expect(existsSync(file)).toBe(false);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('--username names another admin (created when absent); a non-admin user is refused; a bad name is refused', async () => {
    const r = await runCli(['reset-admin-password', '--username', 'ops'], cliEnv);
    expect(r.code, r.stderr).toBe(0);
    const ops = passwordIn(r.stderr)!;
    expectPrivateFile(file, ops, 'ops');
    expect(r.stderr).toMatch(/Created the admin user "ops"/);

    const s = await serve(cliEnv);
    try {
      const admin = basicHeader('ops', ops);
      expect((await fetch(`${s.url}/users`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'tina', password: 'tina-long-password', role: 'trader' }) })).status).toBe(201);
      expect(existsSync(file)).toBe(false);
    } finally {
      await s.stop();
    }
    const trader = await runCli(['reset-admin-password', '--username', 'tina'], cliEnv);
    expect(trader.code).toBe(1);
    expect(trader.stderr).toMatch(/tina is a trader, not an admin/);
    expect(existsSync(file)).toBe(false);

    const bad = await runCli(['reset-admin-password', '--username', 'a b'], cliEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--username/);
    const misplaced = await runCli(['serve', '--username', 'x'], cliEnv);
    expect(misplaced.code).toBe(2);
  }, 180_000);

  it('a first start through `tradedesk mcp` leaves the password in the file too', async () => {
    const other = await testEnv('postgres', { apiUsername: undefined, apiPassword: undefined });
    try {
      const child = spawn(process.execPath, [MAIN, 'mcp'], { env: cleanEnv({ DATA_DIR: other.dataDir, VAULT_KEY: other.config.vaultKey!, LOG_LEVEL: 'warn' }), cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      const printed = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no password printed within 60 s; stderr: ${stderr}`)), 60_000);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const p = passwordIn(stderr);
          if (p) {
            clearTimeout(timer);
            resolve(p);
          }
        });
      });
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      try {
        const password = await printed;
        expectPrivateFile(join(other.dataDir, FILE), password);
      } finally {
        child.stdin.end(); // stdio MCP ends with its input
        await closed;
      }
    } finally {
      await other.cleanup();
    }
  }, 90_000);
});

describe.runIf(process.env.DATABASE_URL)('reset-admin-password in server mode (Postgres)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    await ensureBuilt();
    env = await testEnv('postgres');
  });
  afterAll(async () => env?.cleanup());

  it('creates or resets a stored admin in the database, which the server then accepts', async () => {
    const cliEnv = { DATA_DIR: env.dataDir, DATABASE_URL: env.config.databaseUrl!, API_USERNAME: env.config.apiUsername!, API_PASSWORD: env.config.apiPassword!, VAULT_KEY: env.config.vaultKey! };
    const r = await runCli(['reset-admin-password', '--username', 'root'], cliEnv);
    expect(r.code, r.stderr).toBe(0);
    const password = passwordIn(r.stderr)!;
    expectPrivateFile(join(env.dataDir, FILE), password, 'root');
    const again = await runCli(['reset-admin-password', '--username', 'root'], cliEnv);
    expect(again.code, again.stderr).toBe(0);
    const fresh = passwordIn(again.stderr)!;
    expect(again.stderr).toMatch(/A new password for the admin user "root"/);

    const server = await startServer(env.config, createLogger('silent'));
    try {
      expect(await status(server.url, 'root', password)).toBe(401);
      expect(await status(server.url, 'root', fresh)).toBe(200);
      expect(existsSync(join(env.dataDir, FILE))).toBe(false);
    } finally {
      await server.close();
    }
  }, 120_000);
});
