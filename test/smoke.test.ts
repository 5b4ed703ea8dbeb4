import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, testServer, type TestServer } from './helpers/test-env.js';

describe.each(drivers())('server on %s', (driver) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer(driver);
  });
  afterAll(async () => s?.stop());

  it('answers /health without credentials', async () => {
    const r = await s.call('GET', '/health', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
    expect(r.body.database).toBe('ok');
    expect(r.body.database_kind).toBe(driver);
  });

  it('serves master_account paper balances on sim', async () => {
    const r = await s.call('GET', '/accounts/master_account/balances?connector_name=sim');
    expect(r.status).toBe(200);
    expect(r.body.connectors[0].balances).toEqual([
      { asset: 'BTC', total: 1, available: 1, locked: 0 },
      { asset: 'USDT', total: 10000, available: 10000, locked: 0 },
    ]);
  });
});
