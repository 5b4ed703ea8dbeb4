import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/** Two admins removed at the same moment: one change wins, the other is refused, one stored admin remains. */
describe.each(drivers())('the last stored admin under concurrent changes on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver);
  });
  afterAll(async () => s?.stop());

  const admins = async () => ((await s.services.db.execute(sql`select count(*)::int as n from users where role = 'admin'`)) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n;

  it.each([
    ['demote', 'demote'],
    ['delete', 'delete'],
    ['demote', 'delete'],
  ])('%s and %s at once leave one admin', async (first, second) => {
    const names = [`${first}_${second}_a`, `${first}_${second}_b`];
    for (const username of names) expect((await s.call('POST', '/users', { username, password: 'an-admin-password', role: 'admin' })).status).toBe(201);
    const change = (how: string, username: string) => (how === 'demote' ? s.call('PUT', `/users/${username}`, { role: 'viewer' }) : s.call('DELETE', `/users/${username}`));
    const results = await Promise.all([change(first, names[0]!), change(second, names[1]!)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    expect(await admins()).toBe(1);
    // Clean up the survivor so the next case starts from no stored admin.
    const survivor = ((await s.services.db.execute(sql`select username from users where role = 'admin'`)) as unknown as { rows: Array<{ username: string }> }).rows[0]!.username;
    await s.services.db.execute(sql`delete from users where username = ${survivor}`);
  });
});
