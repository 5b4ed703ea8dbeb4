import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';

const ALICE = { username: 'alice', password: 'alice-long-password' };
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

/** GET /accounts as `user:password` from `localAddress`. */
const getAccounts = (s: TestServer, auth: string, localAddress: string) => rawRequest(s.url, { path: '/accounts', headers: { authorization: auth }, localAddress });

function expectThrottled(r: RawAnswer): void {
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe('RATE_LIMITED');
  expect(r.body.error.hint).toMatch(/Retry-After/);
  const after = Number(r.headers['retry-after']);
  expect(Number.isInteger(after) && after >= 1 && after <= 15 * 60).toBe(true);
  expect(r.body.error.details.retry_after_s).toBe(after);
}

/** The status a WebSocket upgrade to the market stream is answered with (101 when accepted). */
function upgradeStatus(s: TestServer, auth: string, localAddress: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/market-data/stream`, { headers: { authorization: auth }, localAddress });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe.each(drivers())('failed-login throttle over HTTP on %s', (driver) => {
  let s: TestServer;
  let verifyCalls: ReturnType<typeof vi.spyOn>;

  beforeAll(async () => {
    s = await testServer(driver);
    expect((await s.call('POST', '/users', { ...ALICE, role: 'trader' })).status).toBe(201);
    // alice logs in once from her usual address, 127.0.0.2.
    expect((await getAccounts(s, basicHeader(ALICE.username, ALICE.password), '127.0.0.2')).status).toBe(200);
    verifyCalls = vi.spyOn(s.services.auth, 'verify');
  });
  afterAll(async () => s?.stop());

  it('16 parallel wrong passwords from one address: the limit reaches the password check, the rest get 429 with Retry-After', async () => {
    verifyCalls.mockClear();
    const answers = await Promise.all(Array.from({ length: 16 }, () => getAccounts(s, basicHeader(ALICE.username, 'wrong-password'), '127.0.0.3')));
    const throttled = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
    expect(throttled).toHaveLength(6);
    for (const r of throttled) expectThrottled(r);
    expect(throttled[0]!.body.error.message).toMatch(/from this address/);
    // The expensive check ran for the admitted attempts only.
    expect(verifyCalls).toHaveBeenCalledTimes(10);
  });

  it('the throttled address is refused on every face without a password check: REST, /mcp and the stream upgrade', async () => {
    verifyCalls.mockClear();
    expectThrottled(await getAccounts(s, ADMIN_AUTH, '127.0.0.3'));
    const mcp = await rawRequest(s.url, {
      method: 'POST',
      path: '/mcp',
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INIT,
      localAddress: '127.0.0.3',
    });
    expectThrottled(mcp);
    const ws = await upgradeStatus(s, ADMIN_AUTH, '127.0.0.3');
    expect(ws.status).toBe(429);
    expect(Number(ws.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(verifyCalls).not.toHaveBeenCalled();
  });

  it('the victim logs in from another address while the attack goes on, on every face', async () => {
    expect((await getAccounts(s, basicHeader(ALICE.username, ALICE.password), '127.0.0.2')).status).toBe(200);
    expect((await getAccounts(s, ADMIN_AUTH, '127.0.0.4')).status).toBe(200);
    expect((await upgradeStatus(s, basicHeader(ALICE.username, ALICE.password), '127.0.0.2')).status).toBe(101);
  });

  it('wrong passwords through the stream upgrade count too', async () => {
    verifyCalls.mockClear();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await upgradeStatus(s, basicHeader('admin', 'wrong-password'), '127.0.0.5')).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    expect(verifyCalls).toHaveBeenCalledTimes(10);
  });

  it('a distributed attack on one user locks that user for new addresses only', async () => {
    // Her last success cleared alice's failures; three more addresses bring her to 30.
    for (const address of ['127.0.0.6', '127.0.0.7', '127.0.0.8']) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => getAccounts(s, basicHeader(ALICE.username, 'wrong-password'), address)));
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(401));
    }
    verifyCalls.mockClear();
    const fresh = await getAccounts(s, basicHeader(ALICE.username, ALICE.password), '127.0.0.9');
    expectThrottled(fresh);
    expect(fresh.body.error.message).toMatch(/for this user/);
    expect(verifyCalls).not.toHaveBeenCalled();
    // Her usual address still gets in, and other users are not held back at the fresh address.
    expect((await getAccounts(s, basicHeader(ALICE.username, ALICE.password), '127.0.0.2')).status).toBe(200);
    expect((await getAccounts(s, ADMIN_AUTH, '127.0.0.9')).status).toBe(200);
  });
});
