import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRunner, type ServiceOptions } from '../../src/app/services.js';
import { ManualClock } from '../../src/core/clock.js';
import { createRegistry } from '../../src/core/command/index.js';
import { ExecutorService } from '../../src/core/executors/executor-service.js';
import { createLogger } from '../../src/core/logger.js';
import { ExecutorConfig } from '../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../src/core/strategy/executors/registry.js';
import { allCommands } from '../../src/tools/index.js';
import { drivers, testServices } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The crash window of the order path: a process that sent an executor's order and died before writing
 * what came of it. The next process finds the order still in the executor's outbox, sends it again under
 * the same client order id, and gets the original order back: one order, one fill, and the executor
 * carries on from it.
 */

const PINNED = Date.UTC(2026, 5, 1, 12, 0, 0, 0);

describe.each(drivers())('the executor outbox across a crash (%s)', (driver) => {
  let env: Awaited<ReturnType<typeof testServices>>;
  const clock = new ManualClock(PINNED);
  const options: ServiceOptions = { clock, executors: { intervalMs: null } };
  const rows = async <T = any>(q: ReturnType<typeof sql>): Promise<T[]> => ((await env.services.db.execute(q)) as unknown as { rows: T[] }).rows;

  beforeAll(async () => {
    env = await testServices(driver, {}, options);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('an order sent just before a crash is replayed, not placed twice', async () => {
    const { services } = env;
    const registry = createRegistry(allCommands);
    const logger = createLogger('silent');
    const run = commandRunner(registry, () => services, logger);
    const deps = { db: services.db, marketData: services.marketData, trading: services.trading, users: services.users, clock, logger, factory: { create: createExecutor, restore: restoreExecutor } };
    // The first process places the order and then never hears back: it is gone.
    const dying = new ExecutorService({ ...deps, run: async (name, input, as) => (await run(name, input, as), new Promise<never>(() => undefined)) }, { intervalMs: null, staleAfterMs: 10_000, exclusive: false, instanceId: 'dying' });
    void dying.create({
      accountName: 'master_account',
      config: ExecutorConfig.parse({ type: 'position', id: 'ex_crash', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.01', triple_barrier: { stop_loss: 0.5 } }),
      principal: { name: 'admin', role: 'admin' },
      channel: 'rest',
    });
    const placed = await waitFor('the opening order to be stored', async () => (await rows(sql`select client_order_id, status from orders where client_order_id like 'x-%'`))[0]);
    expect(placed.status).toBe('filled');
    const [before] = await rows(sql`select outbox from executors where id = 'ex_crash'`);
    expect(before.outbox).toEqual([{ kind: 'submit', order: expect.objectContaining({ client_order_id: placed.client_order_id, side: 'buy', order_type: 'market', amount: '0.01' }) }]);

    // The next process takes over everything at its start and carries on.
    const next = new ExecutorService({ ...deps, run }, { intervalMs: null, staleAfterMs: 10_000, exclusive: true, instanceId: 'next' });
    await next.start();
    await next.runOnce();
    const [after] = await rows(sql`select outbox, runner, status, report from executors where id = 'ex_crash'`);
    expect(after).toMatchObject({ outbox: [], runner: 'next', status: 'active' });
    expect(after.report.position_amount).toBe('0.01');
    expect(await rows(sql`select count(*)::int as n from orders where client_order_id like 'x-%'`)).toEqual([{ n: 1 }]);
    expect(await rows(sql`select count(*)::int as n from fills f join orders o on o.id = f.order_id where o.client_order_id = ${placed.client_order_id}`)).toEqual([{ n: 1 }]);
    // Two calls in the journal, both answered with the one order.
    expect(await rows(sql`select command, outcome from audit_events where request_id = ${`executor:ex_crash:${placed.client_order_id}`} order by id`)).toEqual([
      { command: 'trading_place_order', outcome: 'OK' },
      { command: 'trading_place_order', outcome: 'OK' },
    ]);
    await next.stop();
  });
});
