import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceOptions, type Services } from '../../src/app/services.js';
import type { BotLaunchSpec } from '../../src/core/bots/runtime.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { createRegistry, execute } from '../../src/core/command/index.js';
import { createLogger } from '../../src/core/logger.js';
import { allCommands } from '../../src/tools/index.js';
import { ensureBuilt } from '../e2e/dist.js';
import { drivers, testEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The orchestrator with real services: the embedded broker, the child runtime running real bot
 * processes, Postgres. The bots are the built `tradedesk bot`, except those whose id starts with
 * `crash-` or `mute-`: a script speaking the protocol through the built BotAgent that crashes when told,
 * or never answers. Deploy, config, stop, start, archive; a crash seen with its exit code and last
 * lines; a bot that never answers; a server restart that launches again the bots meant to run, once
 * each; the kill switch stopping the bots of its account.
 */
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'protocol-bot.mjs');
const ADMIN_OWNER = { name: 'admin', role: 'admin' as const, accounts: null, stored: false };

describe.each(drivers())('bot orchestrator (%s)', (driver) => {
  let env: TestEnv;
  let services: Services;
  let options: ServiceOptions;
  let strategy: BotStrategy;
  /** Every launch spec the child runtime was given, in order. */
  const launched: BotLaunchSpec[] = [];

  const open = async () => (await createServices(env.config, createLogger('silent'), options)).services;
  const deploy = (id: string, extra: Record<string, unknown> = {}) =>
    services.bots.deploy({ id, accountName: 'master_account', owner: ADMIN_OWNER, channel: 'rest', runtime: 'child', strategy, ...extra });

  beforeAll(async () => {
    const main = await ensureBuilt();
    env = await testEnv(driver);
    options = {
      bots: {
        command: (l) => (launched.push(l.spec), /^(crash|mute)-/.test(l.spec.bot_id) ? [process.execPath, FIXTURE, dirname(main)] : [process.execPath, main, 'bot']),
        orchestrator: { rpcTimeoutMs: 1_500, readyTimeoutMs: 20_000, stopGraceMs: 3_000 },
        ingest: { flushMs: 50, knownTtlMs: 100 },
      },
    };
    services = await open();
    const example = services.strategies.get('controller', 'pmm_simple').example!.config;
    strategy = { controllers: [{ controller_name: 'pmm_simple', config: example }] };
  }, 120_000);
  afterAll(async () => {
    await services?.close();
    await env?.cleanup();
  });

  it('deploys a bot that comes online, changes its config (a bad one refused before it is sent), stops, starts and archives it', async () => {
    const bot = await deploy('alpha');
    expect(bot).toMatchObject({ id: 'alpha', desiredState: 'running', observedState: 'running', runtime: 'child' });
    const st = await services.bots.status('alpha');
    expect(st.run).toMatchObject({ status: 'running', stoppedAt: null });
    expect(st.live).toMatchObject({ msg: 'running', data: { running: true, account: 'master_account' } });
    expect(st.crash).toBeNull();

    const cfg = (strategy as { controllers: Array<{ controller_name: string; config: Record<string, unknown> }> }).controllers[0]!;
    const bad = { controllers: [{ controller_name: 'pmm_simple', config: { ...cfg.config, no_such_key: 1 } }] };
    await expect(services.bots.updateConfig('alpha', bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [expect.objectContaining({ path: expect.stringMatching(/^strategy\.controllers\.0\.config/) })] } });
    await expect(services.bots.updateConfig('alpha', { script: { name: 'x', config: {} } })).rejects.toMatchObject({ code: expect.stringMatching(/VALIDATION_FAILED|NOT_FOUND/) });
    const good = { controllers: [{ controller_name: 'pmm_simple', config: { ...cfg.config, executor_refresh_time: 123 } }] };
    const changed = await services.bots.updateConfig('alpha', good);
    expect(changed.applied).toBe('bot');
    expect((changed.bot.strategy as typeof good).controllers[0]!.config.executor_refresh_time).toBe(123);

    const stopped = await services.bots.stop('alpha', { skipOrderCancellation: true });
    expect(stopped).toMatchObject({ desiredState: 'stopped', observedState: 'stopped' });
    const [run] = await services.bots.runs('alpha');
    expect(run).toMatchObject({ status: 'stopped', exitCode: 0 });
    expect(run!.finalStatus).toMatchObject({ status: 200 });
    expect((await services.bots.status('alpha')).live).toBeNull();

    // A stopped bot's config is changed in the store alone.
    const stored = await services.bots.updateConfig('alpha', { controllers: [{ controller_name: 'pmm_simple', config: { ...cfg.config, executor_refresh_time: 77 } }] });
    expect(stored.applied).toBe('stored');

    const again = await services.bots.start('alpha');
    expect(again).toMatchObject({ desiredState: 'running', observedState: 'running' });
    expect(await services.bots.runs('alpha')).toHaveLength(2);

    const archived = await services.bots.archive('alpha');
    expect(archived.archivedAt).not.toBeNull();
    expect(archived).toMatchObject({ desiredState: 'stopped', observedState: 'stopped' });
    await expect(services.bots.start('alpha')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await services.bots.runs('alpha')).map((r) => r.status)).toEqual(['stopped', 'stopped']);
  }, 60_000);

  it('sees a crash at once: error, with the exit code and the last output lines in its status and logs', async () => {
    await deploy('crash-beta');
    writeFileSync(join(env.dataDir, 'bots', 'crash-beta', 'crash-now'), '');
    await waitFor('the crash to be recorded', async () => (await services.bots.get('crash-beta'))?.observedState === 'error');
    const st = await services.bots.status('crash-beta');
    expect(st.bot.exitCode).toBe(3);
    expect(st.bot.desiredState).toBe('running');
    expect(st.crash?.exitCode).toBe(3);
    expect(st.crash?.tail.slice(-2)).toEqual(['working 5', 'Error: the strategy hit a fatal error']);
    expect(st.run).toMatchObject({ status: 'error', exitCode: 3 });
    expect(st.live).toBeNull();
    expect(st.recentLogs.map((l) => l.message)).toContain("The bot's process ended on its own (exit code 3).");
    const archived = await services.bots.archive('crash-beta');
    expect(archived.observedState).toBe('error');
  }, 60_000);

  it('reports a bot that never answers as TIMEOUT, and still ends it on stop', async () => {
    const bot = await deploy('mute-gamma');
    expect(bot.observedState).toBe('running');
    await expect(services.bots.status('mute-gamma')).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/No reply from bot mute-gamma to status/) });
    const cfg = (strategy as { controllers: Array<{ config: Record<string, unknown> }> }).controllers[0]!.config;
    await expect(services.bots.updateConfig('mute-gamma', { controllers: [{ controller_name: 'pmm_simple', config: { ...cfg, executor_refresh_time: 99 } }] })).rejects.toMatchObject({ code: 'TIMEOUT' });
    // Not accepted, so not stored.
    expect(((await services.bots.get('mute-gamma'))!.strategy as { controllers: Array<{ config: Record<string, unknown> }> }).controllers[0]!.config.executor_refresh_time).toBe(cfg.executor_refresh_time);
    const stopped = await services.bots.stop('mute-gamma', { skipOrderCancellation: false });
    expect(stopped.observedState).toBe('stopped');
    const [run] = await services.bots.runs('mute-gamma');
    expect(run!.status).toBe('stopped');
    expect(JSON.stringify(run!.finalStatus)).toMatch(/TIMEOUT/);
  }, 60_000);

  it('launches again after a server restart the bots meant to run, once each', async () => {
    await deploy('delta');
    await deploy('epsilon', { start: false });
    // A bot whose account a kill switch covers (set without stop_bots) stays down after the restart.
    await services.accounts.create('ks_desk', [{ connector_name: 'sim' }]);
    await deploy('kappa', { accountName: 'ks_desk' });
    await services.safety.killSwitches.set('ks_desk', 'halt', 'admin');
    await services.close();
    services = await open();
    const down = await waitFor('kappa to be kept down', async () => {
      const b = await services.bots.get('kappa');
      return b?.observedState === 'error' ? b : undefined;
    }, { timeoutMs: 20_000 });
    expect(down.desiredState).toBe('running');
    // The log line goes through the ingest's buffered flush: it may land just after the state.
    const line = await waitFor('the reason in its log', async () => (await services.bots.logs('kappa', { limit: 50 })).find((l) => l.message.startsWith('Not restarted:')));
    expect(line.message).toMatch(/^Not restarted: The ks_desk kill switch is on since \S+; no bot on ks_desk starts while it is\.$/);
    expect((await services.bots.runs('kappa')).map((r) => r.status)).toEqual(['interrupted']);
    await services.safety.killSwitches.clear('ks_desk');
    await services.bots.archive('kappa');
    const back = await waitFor('delta to come back', async () => {
      const b = await services.bots.get('delta');
      return b?.observedState === 'running' ? b : undefined;
    }, { timeoutMs: 20_000 });
    expect(back.desiredState).toBe('running');
    const runs = await services.bots.runs('delta');
    expect(runs.map((r) => r.status)).toEqual(['running', 'interrupted']);
    expect((await services.bots.status('delta')).live).toMatchObject({ msg: 'running' });
    expect((await services.bots.get('epsilon'))!.observedState).toBe('stopped');
    expect(await services.bots.runs('epsilon')).toEqual([]);
    // The restored bot came online once: one availability line per process it ever had. The line is
    // written by the ingest's buffered flush, which may land just after the presence made it running.
    const onlineLines = async () => (await services.bots.logs('delta', { limit: 500 })).filter((l) => l.message === 'availability: online');
    await waitFor('the second online line', async () => ((await onlineLines()).length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(await onlineLines()).toHaveLength(2);
    // The mute bot and the archived ones were not brought back.
    expect((await services.bots.runs('mute-gamma')).map((r) => r.status)).toEqual(['stopped']);
  }, 90_000);

  it('stops the bots of the account a kill switch covers with stop_bots, and no other', async () => {
    await services.accounts.create('other_desk', [{ connector_name: 'sim' }]);
    await deploy('zeta', { accountName: 'other_desk' });
    const out = await execute(createRegistry(allCommands), 'safety_set_kill_switch', { account_name: 'master_account', reason: 'runaway bot', stop_bots: true }, {
      services,
      principal: { name: 'admin', role: 'admin', accounts: null },
      surface: { channel: 'rest', toolsets: 'all', readOnly: false },
      requestId: 'ks-1',
      logger: createLogger('silent'),
    });
    expect(out.stopped_bot_ids).toEqual(['delta']);
    expect(await services.bots.get('delta')).toMatchObject({ desiredState: 'stopped', observedState: 'stopped' });
    expect((await services.bots.logs('delta', { limit: 50 })).map((l) => l.message)).toContain('Stopped by the kill switch: runaway bot');
    expect(await services.bots.get('zeta')).toMatchObject({ desiredState: 'running', observedState: 'running' });

    // While the switch is on, nothing undoes it: the stopped bot does not start, a new one is not launched.
    const refusal = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
    expect(await refusal(services.bots.start('delta'))).toMatch(/^KILL_SWITCH_ACTIVE: The master_account kill switch is on since /);
    expect(await refusal(deploy('theta'))).toMatch(/^KILL_SWITCH_ACTIVE/);
    expect(await services.bots.get('theta')).toBeUndefined();
    expect(await services.bots.get('delta')).toMatchObject({ desiredState: 'stopped', observedState: 'stopped' });
    // Deploying stopped is allowed: it trades nothing until started.
    expect(await deploy('theta', { start: false })).toMatchObject({ desiredState: 'stopped' });
    await services.safety.killSwitches.clear('master_account');
    expect(await services.bots.start('delta')).toMatchObject({ desiredState: 'running', observedState: 'running' });
    await services.bots.archive('theta');
  }, 60_000);

  it('carries the bot\'s on_restart into its launch spec: resume unless it was deployed with flatten', async () => {
    const bot = await deploy('eta', { onRestart: 'flatten' });
    expect(bot).toMatchObject({ onRestart: 'flatten', observedState: 'running' });
    expect(launched.filter((l) => l.bot_id === 'eta').map((l) => l.on_restart)).toEqual(['flatten']);
    expect(launched.filter((l) => l.bot_id === 'alpha').map((l) => l.on_restart)).toEqual(['resume', 'resume']);
    expect((await services.bots.get('alpha'))!.onRestart).toBe('resume');
    await services.bots.archive('eta');
  }, 60_000);
});
