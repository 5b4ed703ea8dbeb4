import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceOptions, type Services } from '../../src/app/services.js';
import { createRegistry, execute } from '../../src/core/command/index.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { createLogger } from '../../src/core/logger.js';
import { allCommands } from '../../src/tools/index.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A deploy that cannot end in a running bot, with the real orchestrator, child runtime and broker: a
 * bot command that cannot be started, a process that never comes online within the ready timeout, one
 * that dies during its start; each leaves the bot `error` (never `starting`), its run closed as error,
 * a log line saying why and a clear error to the caller. A bot brought back after a restart that never
 * comes online ends the same way. And a deploy on an account that does not exist, or on a connector the
 * account lacks, is refused before anything is created or launched.
 */
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };
const READY_MS = 2_500;

/** What each kind of bot id runs instead of the bot: nothing startable, a mute process, one that dies at once. */
function command(id: string): string[] {
  if (id.startsWith('nocmd-')) return ['/nonexistent/tradedesk-bot'];
  if (id.startsWith('silent-')) return [process.execPath, '-e', "console.log('waiting for nothing'); setInterval(() => {}, 1000)"];
  return [process.execPath, '-e', "console.error('cannot reach the broker: ECONNREFUSED'); process.exit(1)"];
}

describe.each(drivers())('bot launches that fail (%s)', (driver) => {
  let env: TestEnv;
  let services: Services;
  let options: ServiceOptions;
  const strategy: BotStrategy = { controllers: [{ controller_name: 'pmm_simple', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', buy_spreads: [0.01], sell_spreads: [0.01] } }] };
  const open = async () => (await createServices(env.config, createLogger('silent'), options)).services;
  const deploy = (id: string, extra: Record<string, unknown> = {}) => services.bots.deploy({ id, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy, ...extra });
  const messages = async (id: string) => (await services.bots.logs(id, { limit: 200 })).map((l) => `${l.logger}: ${l.message}`);

  beforeAll(async () => {
    env = await testEnv(driver);
    options = { bots: { command: (l) => command(l.spec.bot_id), orchestrator: { readyTimeoutMs: READY_MS, stopGraceMs: 2_000, rpcTimeoutMs: 1_500 }, ingest: { flushMs: 50, knownTtlMs: 100 } } };
    services = await open();
  }, 60_000);
  afterAll(async () => {
    await services?.close();
    await env?.cleanup();
  });

  it('a bot command that cannot be started: the deploy fails with the reason, the bot is error with a log line', async () => {
    await expect(deploy('nocmd-a')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/Could not start bot nocmd-a: .*ENOENT/) });
    const bot = await services.bots.get('nocmd-a');
    expect(bot).toMatchObject({ desiredState: 'running', observedState: 'error' });
    expect(await messages('nocmd-a')).toEqual([expect.stringMatching(/^server: Launch failed: Could not start bot nocmd-a/)]);
    expect((await services.bots.runs('nocmd-a')).map((r) => r.status)).toEqual(['error']);
  });

  it('a process that never comes online: TIMEOUT to the caller, its process ended, the bot error with why and its output', async () => {
    const started = Date.now();
    const err = await deploy('silent-b').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'TIMEOUT', message: `Bot silent-b did not come online within ${READY_MS / 1000} s; its process was ended and the bot is in error.`, details: { bot_id: 'silent-b', observed_state: 'error' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(READY_MS);
    const st = await services.bots.status('silent-b');
    expect(st.bot).toMatchObject({ desiredState: 'running', observedState: 'error' });
    expect(st.live).toBeNull();
    expect(st.run).toMatchObject({ status: 'error' });
    expect(st.run!.finalStatus).toMatchObject({ launch: expect.stringMatching(/^Did not come online within 2.5 s/) });
    const lines = await messages('silent-b');
    expect(lines).toContain('process.output: waiting for nothing');
    expect(lines.some((l) => /^server: Start failed: Did not come online within 2\.5 s .*its process was ended\.$/.test(l))).toBe(true);

    // Started again it fails the same way, and again ends as error: never left starting.
    await expect(services.bots.start('silent-b')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((await services.bots.get('silent-b'))!.observedState).toBe('error');
    expect((await services.bots.runs('silent-b')).map((r) => r.status)).toEqual(['error', 'error']);
  }, 30_000);

  it('a process that dies during its start: the deploy says so with its exit code and last lines, the bot is error', async () => {
    const err = await deploy('dies-c').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: 'Bot dies-c ended during its start (exit code 1).', details: { exit_code: 1, tail: ['cannot reach the broker: ECONNREFUSED'] } });
    expect(await services.bots.get('dies-c')).toMatchObject({ observedState: 'error', exitCode: 1 });
    expect(await messages('dies-c')).toEqual(expect.arrayContaining(['process.output: cannot reach the broker: ECONNREFUSED', "server: The bot's process ended on its own (exit code 1)."]));
  }, 30_000);

  it('a bot brought back after a restart that never comes online ends as error too', async () => {
    await services.close();
    services = await open();
    // silent-b is meant to run: the new server launches it, nobody waits, and the ready timeout still applies.
    await waitFor('silent-b to be launched again', async () => ((await services.bots.runs('silent-b')).length === 3 ? true : undefined), { timeoutMs: 10_000 });
    await waitFor('silent-b to end as error', async () => ((await services.bots.get('silent-b'))!.observedState === 'error' ? true : undefined), { timeoutMs: 15_000 });
    const runs = await services.bots.runs('silent-b');
    expect(runs[0]).toMatchObject({ status: 'error' });
    expect(runs[0]!.stoppedAt).not.toBeNull();
  }, 40_000);

  it('refuses a deploy on an account that does not exist, or on a connector the account lacks, before creating anything', async () => {
    await expect(deploy('ghost-d', { accountName: 'no_such_account' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'There is no account named no_such_account.',
      details: { account_name: 'no_such_account', issues: [{ path: 'account_name', message: 'no account named no_such_account' }] },
    });
    expect(await services.bots.get('ghost-d')).toBeUndefined();
    const onBinance: BotStrategy = { controllers: [{ controller_name: 'pmm_simple', config: { ...(strategy as { controllers: Array<{ config: Record<string, unknown> }> }).controllers[0]!.config, connector_name: 'binance_paper_trade' } }] };
    await expect(deploy('ghost-e', { strategy: onBinance })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'strategy.controllers.0.config.connector_name', message: 'binance_paper_trade is not attached to master_account' }] },
    });
    expect(await services.bots.get('ghost-e')).toBeUndefined();

    // The same through the command, as REST and MCP run it: the field named, nothing deployed.
    const ctx = { services, principal: { name: 'admin', role: 'admin' as const, accounts: null }, surface: { channel: 'rest' as const, toolsets: 'all' as const, readOnly: false }, requestId: 'r-1', logger: createLogger('silent') };
    const registry = createRegistry(allCommands);
    const body = { bot_id: 'ghost-f', runtime: 'child', controllers: [{ controller_name: 'pmm_simple', config: (strategy as { controllers: Array<{ config: Record<string, unknown> }> }).controllers[0]!.config }] };
    await expect(execute(registry, 'bots_deploy_bot', { ...body, account_name: 'no_such_account' }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { account_name: 'no_such_account' } });
    await expect(execute(registry, 'bots_deploy_bot', { ...body, account_name: 'master_account', controllers: onBinance.controllers }, ctx)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'controllers.0.config.connector_name', message: 'binance_paper_trade is not attached to master_account' }] },
    });
    expect(await services.bots.get('ghost-f')).toBeUndefined();
  });
});
