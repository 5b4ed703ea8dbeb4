import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * A call the REST face cannot read (a body that is not JSON, not an object, too large, or that
 * contradicts its path) is still a call of the command its route names: it is refused with the right
 * code and leaves exactly one journal row, like every other call.
 */
describe.each(drivers())('unreadable calls are journaled on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver, {}, {});
  });
  afterAll(async () => {
    await s?.stop();
  });

  const send = async (id: string, method: string, path: string, body: string) => {
    const res = await fetch(s.url + path, { method, headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json', 'x-request-id': id }, body });
    return { status: res.status, body: (await res.json()) as { error: { code: string; request_id: string } } };
  };
  const rowsOf = async (id: string) => {
    await s.services.audit.flush();
    const r = (await s.services.db.execute(sql`select command, outcome from audit_events where request_id = ${id}`)) as unknown as { rows: Array<{ command: string; outcome: string }> };
    return r.rows;
  };

  const cases: Array<[string, string, string, string, number, string]> = [
    ['not JSON', 'POST', '/trading/orders', '{"side": "buy",', 400, 'VALIDATION_FAILED'],
    ['an array', 'POST', '/trading/orders', '[1, 2]', 400, 'VALIDATION_FAILED'],
    ['too large', 'POST', '/trading/orders', JSON.stringify({ pad: 'x'.repeat(300_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['conflicting with its path', 'PUT', '/accounts/master_account', JSON.stringify({ account_name: 'other' }), 400, 'VALIDATION_FAILED'],
  ];
  for (const [why, method, path, body, status, code] of cases) {
    it(`a body that is ${why}: ${status} ${code} and one journal row`, async () => {
      const id = `unreadable-${driver}-${why.replace(/\W+/g, '-')}`;
      const r = await send(id, method, path, body);
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      const command = path === '/trading/orders' ? 'trading_place_order' : 'accounts_update_account';
      expect(await rowsOf(id)).toEqual([{ command, outcome: code }]);
    });
  }

  it('an unreadable body for no command route keeps its plain answer and no row', async () => {
    const r = await send(`unreadable-${driver}-nowhere`, 'POST', '/no/such/route', '{"x":');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(await rowsOf(`unreadable-${driver}-nowhere`)).toEqual([]);
  });
});
