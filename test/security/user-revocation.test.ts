import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticatorHooks } from '../../src/core/auth/authenticator.js';
import { mcpCall, mcpClient } from '../helpers/mcp-call.js';
import { basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * Holds the next verification of one user between its database read and its cache write, so that a
 * test can run an admin change exactly inside that window, as a request in flight would see it.
 */
class HoldPoint {
  #armed: { user: string; reached: () => void; release: Promise<void> } | null = null;
  readonly hooks: AuthenticatorHooks = {
    afterRead: async (username) => {
      const armed = this.#armed;
      if (!armed || armed.user !== username) return;
      this.#armed = null;
      armed.reached();
      await armed.release;
    },
  };

  /** Arms the hold for `user`; resolves `reached` when a verification is held, and `release()` lets it go on. */
  arm(user: string): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    this.#armed = { user, reached, release: released };
    return { reached: reachedP, release };
  }
}

/** Revocation wins over the login cache, also against a request that was in flight during the change. */
describe.each(drivers())('revoking a user on %s', (driver) => {
  let s: TestServer;
  const hold = new HoldPoint();
  const auth = (u: string) => basicHeader(u, `${u}-password-1`);
  const addUser = async (u: string, role: string) => expect((await s.call('POST', '/users', { username: u, password: `${u}-password-1`, role })).status).toBe(201);

  beforeAll(async () => {
    s = await testServer(driver, {}, { authHooks: hold.hooks });
  });
  afterAll(async () => s?.stop());

  it('a user deleted while its request is being verified is refused then, and on the next request', async () => {
    await addUser('del_inflight', 'trader');
    const h = hold.arm('del_inflight');
    const inFlight = s.call('GET', '/accounts', undefined, auth('del_inflight'));
    await h.reached;
    // The admin is the environment's user: its verification does not pass the hold.
    expect((await s.call('DELETE', '/users/del_inflight')).status).toBe(200);
    h.release();
    expect((await inFlight).status).toBe(401);
    expect((await s.call('GET', '/accounts', undefined, auth('del_inflight'))).status).toBe(401);
  });

  it('a user demoted while its request is being verified has the new role on the next request', async () => {
    await addUser('dem_inflight', 'trader');
    const order = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
    const h = hold.arm('dem_inflight');
    const inFlight = s.call('GET', '/accounts', undefined, auth('dem_inflight'));
    await h.reached;
    expect((await s.call('PUT', '/users/dem_inflight', { role: 'viewer' })).body.role).toBe('viewer');
    h.release();
    expect((await inFlight).status).toBe(200);
    const next = await s.call('POST', '/trading/orders', order, auth('dem_inflight'));
    expect(next.status).toBe(403);
    expect(next.body.error.code).toBe('POLICY_DENIED');
    expect(next.body.error.message).toContain('role viewer');
  });

  it('over MCP too: the next tool call after a demotion runs with the new role, after a deletion is refused', async () => {
    await addUser('mcp_user', 'trader');
    const client = await mcpClient(s.url, auth('mcp_user'), 'revocation');
    try {
      const order = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
      // Connecting verified and cached the login; any user change empties the cache, so the next call reads again.
      await addUser('mcp_other', 'viewer');
      const h = hold.arm('mcp_user');
      const inFlight = mcpCall(client, 'accounts_list_accounts', {});
      await h.reached;
      expect((await s.call('PUT', '/users/mcp_user', { role: 'viewer' })).body.role).toBe('viewer');
      h.release();
      expect((await inFlight).ok).toBe(true);
      const next = await mcpCall(client, 'trading_place_order', order);
      expect(next.ok ? 'ok' : next.code).toBe('POLICY_DENIED');
      expect((await s.call('DELETE', '/users/mcp_user')).status).toBe(200);
      await expect(mcpCall(client, 'accounts_list_accounts', {})).rejects.toThrow(/UNAUTHENTICATED/);
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  it('a cached login is dropped by a deletion: the next request is refused', async () => {
    await addUser('del_cached', 'trader');
    // Two requests: the second is answered from the cache.
    expect((await s.call('GET', '/accounts', undefined, auth('del_cached'))).status).toBe(200);
    expect((await s.call('GET', '/accounts', undefined, auth('del_cached'))).status).toBe(200);
    expect((await s.call('DELETE', '/users/del_cached')).status).toBe(200);
    expect((await s.call('GET', '/accounts', undefined, auth('del_cached'))).status).toBe(401);
  });

  it('on one keep-alive connection, a login remembered for that connection is dropped by a demotion and by a deletion', async () => {
    await addUser('conn_user', 'trader');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const send = (method: string, path: string, body?: unknown) =>
      new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = { authorization: auth('conn_user') };
        if (body) headers['content-type'] = 'application/json';
        const req = request(`${s.url}${path}`, { agent, method, headers }, (res) => {
          sockets.add(req.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body ? JSON.stringify(body) : undefined);
      });
    const order = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' };
    try {
      expect(await send('GET', '/accounts')).toBe(200);
      expect(await send('GET', '/accounts')).toBe(200);
      expect((await s.call('PUT', '/users/conn_user', { role: 'viewer' })).body.role).toBe('viewer');
      // The connection's remembered trader login must not outlive the demotion.
      expect(await send('POST', '/trading/orders', order)).toBe(403);
      expect((await s.call('DELETE', '/users/conn_user')).status).toBe(200);
      expect(await send('GET', '/accounts')).toBe(401);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('a password change made while the old password is being verified locks the old password out', async () => {
    await addUser('pw_inflight', 'trader');
    const h = hold.arm('pw_inflight');
    const inFlight = s.call('GET', '/accounts', undefined, auth('pw_inflight'));
    await h.reached;
    expect((await s.call('PUT', '/users/pw_inflight', { password: 'a-brand-new-password' })).status).toBe(200);
    h.release();
    expect((await inFlight).status).toBe(401);
    expect((await s.call('GET', '/accounts', undefined, auth('pw_inflight'))).status).toBe(401);
    expect((await s.call('GET', '/accounts', undefined, basicHeader('pw_inflight', 'a-brand-new-password'))).status).toBe(200);
  });

  it('a failed change (the last admin) leaves logins working', async () => {
    await addUser('only_admin', 'admin');
    const r = await s.call('DELETE', '/users/only_admin');
    expect(r.body.error.code).toBe('PRECONDITION_FAILED');
    expect((await s.call('GET', '/users', undefined, auth('only_admin'))).status).toBe(200);
  });
});
