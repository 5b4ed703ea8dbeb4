import { describe, expect, it } from 'vitest';
import { checkAccount, checkStrategy, configParams, controllerIds } from '../../../src/core/bots/strategy-check.js';
import { createLogger } from '../../../src/core/logger.js';
import { SHIPPED_CONTROLLERS } from '../../../src/core/strategy/controllers/index.js';
import { SHIPPED_SCRIPTS } from '../../../src/core/strategy/scripts/index.js';
import { StrategyCatalog } from '../../../src/core/strategy-catalog/catalog.js';

const catalog = new StrategyCatalog({ controllers: SHIPPED_CONTROLLERS, scripts: SHIPPED_SCRIPTS, logger: createLogger('silent') });
await catalog.start();
const example = catalog.get('controller', 'pmm_simple').example!.config;
const pmm = (config: Record<string, unknown> = example) => ({ controller_name: 'pmm_simple', config });

describe('a bot strategy checked against the catalog', () => {
  it('returns the normal form, and every issue under strategy. with its path', () => {
    const normal = checkStrategy(catalog, { controllers: [pmm()] });
    expect(normal).toEqual({ controllers: [pmm(example)] });
    expect(() => checkStrategy(catalog, { controllers: [pmm(), pmm({ ...example, nope: 1 })] })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: expect.stringMatching(/^strategy\.controllers\.1\.config/) })] } }));
    expect(() => checkStrategy(catalog, { controllers: [] })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => checkStrategy(catalog, { controllers: [{ controller_name: 'no_such', config: {} }] })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('config params sent to a running bot', () => {
  it('names the changed fields as the bot reads them: plain for one controller, <controller id>.<field> for several', () => {
    expect(configParams({ controllers: [pmm()] }, { controllers: [pmm({ ...example, executor_refresh_time: 5 })] })).toEqual([['executor_refresh_time', 5]]);
    const two = { controllers: [pmm(), pmm()] };
    expect(controllerIds(['pmm_simple', 'pmm_simple', 'dca_v1'])).toEqual(['pmm_simple_1', 'pmm_simple_2', 'dca_v1']);
    expect(configParams(two, { controllers: [pmm(), pmm({ ...example, executor_refresh_time: 5 })] })).toEqual([['pmm_simple_2.executor_refresh_time', 5]]);
    expect(configParams({ script: { name: 's', config: { a: 1, b: 2 } } }, { script: { name: 's', config: { a: 1 } } })).toEqual([['b', null]]);
    expect(configParams({ controllers: [pmm()] }, { controllers: [pmm()] })).toEqual([]);
  });

  it('refuses a change of what runs: that is a new deploy', () => {
    expect(() => configParams({ controllers: [pmm()] }, { controllers: [pmm(), pmm()] })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/Not a config change/) }));
    expect(() => configParams({ controllers: [pmm()] }, { script: { name: 's', config: {} } })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('the account a bot is deployed on', () => {
  // One account, desk, with sim only.
  const accounts = { connectorsOf: async (name: string) => (name === 'desk' ? ['sim'] : null) };

  it('passes an account that has every connector the strategy trades on', async () => {
    await expect(checkAccount(accounts, 'desk', { controllers: [pmm({ ...example, connector_name: 'sim' })] })).resolves.toBeUndefined();
    // A config without connector_name trades on none.
    await expect(checkAccount(accounts, 'desk', { script: { name: 's', config: {} } })).resolves.toBeUndefined();
  });

  it('refuses a missing account as NOT_FOUND naming account_name', async () => {
    await expect(checkAccount(accounts, 'ghost', { controllers: [pmm()] })).rejects.toMatchObject({ code: 'NOT_FOUND', details: { account_name: 'ghost', issues: [{ path: 'account_name' }] } });
  });

  it('refuses a connector the account lacks as VALIDATION_FAILED naming each config\'s connector_name', async () => {
    const strategy = { controllers: [pmm({ ...example, connector_name: 'sim' }), pmm({ ...example, connector_name: 'binance_paper_trade' })] };
    await expect(checkAccount(accounts, 'desk', strategy)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'strategy.controllers.1.config.connector_name', message: 'binance_paper_trade is not attached to desk' }] },
    });
    await expect(checkAccount(accounts, 'desk', { script: { name: 's', config: { connector_name: 'kraken' } } })).rejects.toMatchObject({ details: { issues: [{ path: 'strategy.script.config.connector_name' }] } });
  });
});
