import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBasicAuth } from '../../src/core/auth/authenticator.js';
import { ConfigError, loadConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { createServices } from '../../src/app/services.js';
import { cleanEnv, ensureBuilt, MAIN, ROOT } from '../e2e/dist.js';
import { ADMIN, ADMIN_AUTH, basicHeader, drivers, testEnv, testServer, type TestServer } from '../helpers/test-env.js';

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* HTML or empty */
  }
  return { status: res.status, body, headers: res.headers };
}

function expect401(r: { status: number; body: any; headers: Headers }): void {
  expect(r.status).toBe(401);
  expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
  expect(r.body.error.code).toBe('UNAUTHENTICATED');
  expect(r.body.error.hint).toBeTruthy();
}

describe.each(drivers())('HTTP Basic auth on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver);
  });
  afterAll(async () => s?.stop());

  it('no credentials → 401 with WWW-Authenticate: Basic', async () => {
    const r = await get(`${s.url}/accounts`);
    expect401(r);
    expect(r.body.error.message).toMatch(/needs HTTP Basic/);
  });

  it('wrong password → 401', async () => {
    const r = await get(`${s.url}/accounts`, { authorization: basicHeader(ADMIN.username, 'not-the-password') });
    expect401(r);
    expect(r.body.error.message).toMatch(/wrong/);
  });

  it('unknown user → 401, with the same message as a wrong password', async () => {
    const unknown = await get(`${s.url}/accounts`, { authorization: basicHeader('mallory', ADMIN.password) });
    const wrong = await get(`${s.url}/accounts`, { authorization: basicHeader(ADMIN.username, 'nope-nope') });
    expect401(unknown);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it('a password that is a prefix or extension of the right one → 401', async () => {
    expect401(await get(`${s.url}/accounts`, { authorization: basicHeader(ADMIN.username, ADMIN.password.slice(0, -1)) }));
    expect401(await get(`${s.url}/accounts`, { authorization: basicHeader(ADMIN.username, `${ADMIN.password}x`) }));
    expect401(await get(`${s.url}/accounts`, { authorization: basicHeader(ADMIN.username.toUpperCase(), ADMIN.password) }));
  });

  it.each([
    ['Bearer abc.def.ghi'],
    ['Basic'],
    ['Basic !!!not-base64!!!'],
    [`Basic ${Buffer.from('no-colon-here').toString('base64')}`],
    [`Basic ${Buffer.from(':password-only').toString('base64')}`],
    [`Digest ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`],
    [`Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')} extra`],
  ])('malformed header %j → 401', async (header) => {
    expect401(await get(`${s.url}/accounts`, { authorization: header }));
  });

  it('the right password → 200 (scheme name case-insensitive)', async () => {
    expect((await get(`${s.url}/accounts`, { authorization: ADMIN_AUTH })).status).toBe(200);
    const lower = `basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
    expect((await get(`${s.url}/accounts`, { authorization: lower })).status).toBe(200);
  });

  it('/health needs no credentials', async () => {
    const r = await get(`${s.url}/health`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
  });

  it('/openapi.json and /docs/ need credentials', async () => {
    expect401(await get(`${s.url}/openapi.json`));
    expect401(await get(`${s.url}/docs/`));
    const spec = await get(`${s.url}/openapi.json`, { authorization: ADMIN_AUTH });
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toBe('3.1.0');
    expect(spec.body.components.securitySchemes.basicAuth).toEqual({ type: 'http', scheme: 'basic' });
    const docs = await get(`${s.url}/docs/`, { authorization: ADMIN_AUTH });
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('/mcp needs credentials', async () => {
    const anon = await fetch(`${s.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: INIT });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic /);
    const ok = await fetch(`${s.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: ADMIN_AUTH },
      body: INIT,
    });
    expect(ok.status).toBe(200);
  });

  it('every command route needs credentials', async () => {
    for (const [method, path] of [
      ['GET', '/connectors'],
      ['GET', '/connectors/sim'],
      ['GET', '/connectors/sim/markets'],
      ['GET', '/connectors/sim/trading-rules'],
      ['GET', '/accounts'],
      ['POST', '/accounts'],
      ['PUT', '/accounts/master_account'],
      ['DELETE', '/accounts/master_account'],
      ['GET', '/accounts/master_account/balances'],
      ['GET', '/no-such-route'],
    ] as const) {
      const r = await s.call(method, path, method === 'POST' || method === 'PUT' ? { account_name: 'x' } : undefined, null);
      expect(r.status, `${method} ${path}`).toBe(401);
    }
    // Nothing was changed by the refused calls.
    expect((await s.call('GET', '/accounts')).body.data.map((a: { account_name: string }) => a.account_name)).toEqual(['master_account']);
  });
});

describe('parseBasicAuth', () => {
  it('parses a well-formed header and keeps colons in the password', () => {
    expect(parseBasicAuth(basicHeader('u', 'p:a:ss'))).toEqual({ username: 'u', password: 'p:a:ss' });
    expect(parseBasicAuth(basicHeader('u', ''))).toEqual({ username: 'u', password: '' });
  });
  it('returns null for a missing or malformed header', () => {
    for (const h of [undefined, '', 'Basic', 'Bearer x', `Basic ${Buffer.from(':p').toString('base64')}`, `Basic ${Buffer.from('nocolon').toString('base64')}`]) {
      expect(parseBasicAuth(h)).toBeNull();
    }
  });
});

describe('embedded mode without API_USERNAME: a generated admin', () => {
  it('generates a strong password once, stores only its scrypt hash, and it authenticates', async () => {
    const env = await testEnv('postgres', { apiUsername: undefined, apiPassword: undefined });
    try {
      const first = await createServices(env.config, createLogger('silent'));
      let password: string;
      try {
        const admin = first.facts.generatedAdmin;
        expect(admin).toBeDefined();
        expect(admin!.username).toBe('admin');
        password = admin!.password;
        expect(password.length).toBeGreaterThanOrEqual(20);
        expect(password).toMatch(/^[A-Za-z0-9_-]+$/);

        const rows = ((await first.services.db.execute(sql`select * from users`)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
        expect(rows).toHaveLength(1);
        expect(rows[0]!.username).toBe('admin');
        expect(rows[0]!.role).toBe('admin');
        const hash = String(rows[0]!.password_hash);
        expect(hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
        expect(JSON.stringify(rows)).not.toContain(password);

        expect(await first.services.auth.verify('admin', password)).toEqual({ name: 'admin', role: 'admin' });
        expect(await first.services.auth.verify('admin', `${password}x`)).toBeNull();
        expect(await first.services.auth.verify('root', password)).toBeNull();
        // The test-env admin is not configured here.
        expect(await first.services.auth.verify(ADMIN.username, ADMIN.password)).toBeNull();
      } finally {
        await first.services.close();
      }

      const second = await createServices(env.config, createLogger('silent'));
      try {
        expect(second.facts.generatedAdmin).toBeUndefined();
        const rows = ((await second.services.db.execute(sql`select username from users`)) as unknown as { rows: unknown[] }).rows;
        expect(rows).toHaveLength(1);
        // The password from the first start still works after a restart (fresh cache).
        expect(await second.services.auth.verify('admin', password)).toEqual({ name: 'admin', role: 'admin' });
      } finally {
        await second.services.close();
      }
    } finally {
      await env.cleanup();
    }
  });

  it('two fresh installs get different passwords', async () => {
    const passwords: string[] = [];
    for (let i = 0; i < 2; i++) {
      const env = await testEnv('postgres', { apiUsername: undefined, apiPassword: undefined });
      try {
        const { services, facts } = await createServices(env.config, createLogger('silent'));
        passwords.push(facts.generatedAdmin!.password);
        await services.close();
      } finally {
        await env.cleanup();
      }
    }
    expect(passwords[0]).not.toBe(passwords[1]);
  });

  it('over HTTP the generated password works and the test admin does not', async () => {
    const s = await testServer('postgres', { apiUsername: undefined, apiPassword: undefined });
    try {
      const admin = s.facts.generatedAdmin!;
      expect((await s.call('GET', '/accounts', undefined, basicHeader(admin.username, admin.password))).status).toBe(200);
      expect((await s.call('GET', '/accounts', undefined, ADMIN_AUTH)).status).toBe(401);
    } finally {
      await s.stop();
    }
  });

  it('with API_USERNAME set, no admin is generated and the users table stays empty', async () => {
    const env = await testEnv('postgres');
    try {
      const { services, facts } = await createServices(env.config, createLogger('silent'));
      try {
        expect(facts.generatedAdmin).toBeUndefined();
        const rows = ((await services.db.execute(sql`select * from users`)) as unknown as { rows: unknown[] }).rows;
        expect(rows).toEqual([]);
        expect(await services.auth.verify(ADMIN.username, ADMIN.password)).toEqual({ name: ADMIN.username, role: 'admin' });
      } finally {
        await services.close();
      }
    } finally {
      await env.cleanup();
    }
  });
});

describe('server mode has no default password', () => {
  it('loadConfig with DATABASE_URL and no API_* throws a ConfigError naming API_USERNAME', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/db' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('API_USERNAME');
  });

  it('`tradedesk serve` with DATABASE_URL and no API_* exits non-zero naming API_USERNAME/API_PASSWORD', async () => {
    await ensureBuilt();
    const dataDir = mkdtempSync(join(tmpdir(), 'td-auth-serve-'));
    try {
      const env = cleanEnv({ DATABASE_URL: 'postgres://x@127.0.0.1:1/db', DATA_DIR: dataDir, PORT: '0' });
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [MAIN, 'serve'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let errText = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`serve did not exit; stderr: ${errText}`));
        }, 30_000);
        child.on('error', reject);
        child.on('close', (c) => {
          clearTimeout(timer);
          resolve({ code: c, stdout: out, stderr: errText });
        });
      });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(stderr).toContain('API_USERNAME');
      expect(stderr).toContain('API_PASSWORD');
      expect(stderr).toMatch(/no default password/);
      expect(stdout).toBe('');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
