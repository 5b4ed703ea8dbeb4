import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { openDatabase, type Database } from '../../src/core/db/client.js';
import { controllerConfigVersions } from '../../src/core/db/schema/index.js';
import { createLogger } from '../../src/core/logger.js';
import type { Principal } from '../../src/core/principal.js';
import { defineController } from '../../src/core/strategy/controller.js';
import { StrategyCatalog } from '../../src/core/strategy-catalog/catalog.js';
import { ControllerConfigs } from '../../src/core/strategy-catalog/controller-configs.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';

const ADMIN: Principal = { name: 'admin', role: 'admin' };
const AMY: Principal = { name: 'amy', role: 'trader' };
const BOB: Principal = { name: 'bob', role: 'trader' };

const trend = defineController({
  name: 'trend_test_v1',
  type: 'directional_trading',
  description: 'A controller defined for the config store tests.',
  config: z.strictObject({
    connector_name: z.string().default('sim'),
    trading_pair: z.string().default('BTC-USDT'),
    fast: z.number().int().min(2).default(12),
    slow: z.number().int().min(3).default(26),
  }),
  data: (c) => ({ candles: [{ connector: c.connector_name, tradingPair: c.trading_pair, interval: '1h', bars: c.slow }], quotes: [] }),
  warmupBars: (c) => c.slow,
  create: () => ({ update: () => [] }),
});

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; details?: unknown }) => e.code);

describe.each(drivers())('controller configs on %s', (driver) => {
  let env: TestEnv;
  let database: Database;
  let store: ControllerConfigs;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  beforeAll(async () => {
    env = await testEnv(driver);
    database = await openDatabase({ url: env.config.databaseUrl, dataDir: join(env.dataDir, 'pg') });
    const catalog = new StrategyCatalog({ controllers: [trend], scripts: [], logger: createLogger('silent') });
    store = new ControllerConfigs(database.db, catalog, clock);
  });
  afterAll(async () => {
    await database?.close();
    await env?.cleanup();
  });

  it('stores a config in its normal form as version 1, and each update as the next version', async () => {
    const created = await store.create(AMY, { name: 'btc_trend', controllerName: 'trend_test_v1', config: { fast: 5 } });
    expect(created).toMatchObject({ name: 'btc_trend', controller_name: 'trend_test_v1', owner: 'amy', current_version: 1, created_at: '2026-01-01T00:00:00.000Z' });
    expect(created.config_id).toMatch(/^cfg_[A-Za-z0-9_-]{16}$/);
    expect(created.version).toEqual({ version: 1, config: { connector_name: 'sim', trading_pair: 'BTC-USDT', fast: 5, slow: 26 }, created_at: '2026-01-01T00:00:00.000Z', created_by: 'amy' });

    clock.advance(60_000);
    const v2 = await store.update(AMY, created.config_id, { config: { fast: 8, slow: 30 }, expectedVersion: 1 });
    expect(v2).toMatchObject({ current_version: 2, updated_at: '2026-01-01T00:01:00.000Z', created_at: '2026-01-01T00:00:00.000Z', version: { version: 2, config: { fast: 8, slow: 30 } } });
    // An admin's edit is recorded as the admin's.
    const v3 = await store.update(ADMIN, created.config_id, { config: { fast: 9 } });
    expect(v3.version).toMatchObject({ version: 3, created_by: 'admin' });

    // Old versions stay readable; the current one is the default.
    expect((await store.get(AMY, created.config_id, 1)).version.config).toEqual({ connector_name: 'sim', trading_pair: 'BTC-USDT', fast: 5, slow: 26 });
    expect((await store.get(AMY, created.config_id)).version.version).toBe(3);
    expect(await codeOf(store.get(AMY, created.config_id, 4))).toBe('NOT_FOUND');
    const page1 = await store.versions(AMY, created.config_id, { limit: 2 });
    expect(page1.data.map((v) => v.version)).toEqual([3, 2]);
    expect(page1.pagination).toEqual({ limit: 2, has_more: true, next_cursor: '2' });
    const page2 = await store.versions(AMY, created.config_id, { limit: 2, cursor: page1.pagination.next_cursor! });
    expect(page2.data.map((v) => v.version)).toEqual([1]);
    expect(page2.pagination.has_more).toBe(false);
  });

  it('refuses a bad config with the field paths and changes nothing', async () => {
    const err = await store.create(AMY, { name: 'bad', controllerName: 'trend_test_v1', config: { fast: 1, extra: 1 } }).catch((e) => e);
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['config', 'config.fast']);
    expect((await store.list(AMY, { name: 'bad', limit: 10 })).data).toEqual([]);

    const ok = await store.create(AMY, { name: 'kept', controllerName: 'trend_test_v1', config: {} });
    const bad = await store.update(AMY, ok.config_id, { config: { slow: 'thirty' } }).catch((e) => e);
    expect(bad.details.issues).toEqual([{ path: 'config.slow', message: expect.any(String) }]);
    expect((await store.get(AMY, ok.config_id)).current_version).toBe(1);
    expect(await codeOf(store.create(AMY, { name: 'x', controllerName: 'no_such_v1', config: {} }))).toBe('NOT_FOUND');
  });

  it('keeps names unique per owner, and refuses an update against a stale version', async () => {
    const a = await store.create(AMY, { name: 'shared_name', controllerName: 'trend_test_v1', config: {} });
    expect(await codeOf(store.create(AMY, { name: 'shared_name', controllerName: 'trend_test_v1', config: {} }))).toBe('CONFLICT');
    // Another owner may use the same name.
    expect((await store.create(BOB, { name: 'shared_name', controllerName: 'trend_test_v1', config: {} })).owner).toBe('bob');
    await store.update(AMY, a.config_id, { config: { fast: 3 } });
    const stale = await store.update(AMY, a.config_id, { config: { fast: 4 }, expectedVersion: 1 }).catch((e) => e);
    expect(stale).toMatchObject({ code: 'CONFLICT', details: { current_version: 2 } });
  });

  it("hides another owner's configs (NOT_FOUND, as for a missing id) and shows every config to an admin", async () => {
    const mine = await store.create(AMY, { name: 'private_one', controllerName: 'trend_test_v1', config: {} });
    expect(await codeOf(store.get(BOB, mine.config_id))).toBe('NOT_FOUND');
    expect(await codeOf(store.update(BOB, mine.config_id, { config: {} }))).toBe('NOT_FOUND');
    expect(await codeOf(store.delete(BOB, mine.config_id))).toBe('NOT_FOUND');
    expect(await codeOf(store.versions(BOB, mine.config_id, { limit: 10 }))).toBe('NOT_FOUND');
    expect((await store.list(BOB, { limit: 100 })).data.every((c) => c.owner === 'bob')).toBe(true);
    expect((await store.get(ADMIN, mine.config_id)).owner).toBe('amy');
    const all = await store.list(ADMIN, { limit: 100 });
    expect(new Set(all.data.map((c) => c.owner))).toEqual(new Set(['amy', 'bob']));
  });

  it('lists newest first, page by page, with a filter on the controller', async () => {
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      names.push((await store.create(BOB, { name: `paged_${i}`, controllerName: 'trend_test_v1', config: {} })).name);
    }
    const first = await store.list(BOB, { controllerName: 'trend_test_v1', limit: 2 });
    expect(first.data.map((c) => c.name)).toEqual(['paged_2', 'paged_1']);
    const second = await store.list(BOB, { controllerName: 'trend_test_v1', limit: 2, cursor: first.pagination.next_cursor! });
    expect(second.data.map((c) => c.name)[0]).toBe('paged_0');
    expect((await store.list(BOB, { controllerName: 'other_v1', limit: 10 })).data).toEqual([]);
    expect(await codeOf(store.list(BOB, { limit: 10, cursor: 'garbage' }))).toBe('VALIDATION_FAILED');
  });

  it('deletes a config with all its versions', async () => {
    const c = await store.create(AMY, { name: 'doomed', controllerName: 'trend_test_v1', config: {} });
    await store.update(AMY, c.config_id, { config: { fast: 4 } });
    await store.delete(AMY, c.config_id);
    expect(await codeOf(store.get(AMY, c.config_id))).toBe('NOT_FOUND');
    expect(await database.db.select().from(controllerConfigVersions).where(eq(controllerConfigVersions.configId, c.config_id))).toEqual([]);
    expect(await codeOf(store.delete(AMY, c.config_id))).toBe('NOT_FOUND');
    // The name is free again.
    expect((await store.create(AMY, { name: 'doomed', controllerName: 'trend_test_v1', config: {} })).current_version).toBe(1);
  });
});
