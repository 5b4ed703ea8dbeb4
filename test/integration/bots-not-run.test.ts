import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, testServices } from '../helpers/test-env.js';
import type { Services } from '../../src/app/services.js';

/**
 * A process that reads the bots without running them (`tradedesk mcp` over stdio beside a server):
 * no broker, no orchestrator; reads work, every change is refused with the reason.
 */
describe.each(drivers())('bots in a process that does not run them (%s)', (driver) => {
  let s: { services: Services; close(): Promise<void> };
  beforeAll(async () => {
    s = await testServices(driver, {}, { bots: { run: false } });
  });
  afterAll(async () => s?.close());

  it('reads the bots and refuses to deploy or stop one', async () => {
    const bots = s.services.bots;
    expect((await bots.list({ owner: null, accounts: null }, { limit: 10 })).data).toEqual([]);
    await expect(bots.status('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const deploy = async () => bots.deploy({ id: 'x', accountName: 'master_account', owner: { name: 'admin', role: 'admin', accounts: null, stored: false }, channel: 'mcp', strategy: { script: { name: 's', config: {} } } });
    await expect(deploy()).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/tradedesk serve/) });
    await expect(async () => bots.stopBotsFor(null, 'r')).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });
});
