import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { botEnvironment, ChildRuntime } from '../../src/core/bots/child-runtime.js';
import { TAIL_LINES, type BotExit, type BotLaunch } from '../../src/core/bots/runtime.js';
import { createLogger } from '../../src/core/logger.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The child runtime with real processes: a node script stands in for the bot and does what its launch
 * spec's script name says (crash, ignore SIGTERM, print its environment, run until told to end).
 */
const SCRIPT = `
const spec = JSON.parse(process.env.TRADEDESK_BOT);
const mode = spec.strategy.script.name;
if (mode === 'crash') {
  for (let i = 1; i <= 60; i++) console.log('line ' + i);
  console.error('Error: the strategy blew up');
  process.exit(3);
}
if (mode === 'env') {
  console.log(JSON.stringify({ keys: Object.keys(process.env), password: process.env.TRADEDESK_BOT_PASSWORD, stateDir: process.env.TRADEDESK_BOT_STATE_DIR, spec }));
  process.exit(0);
}
if (mode === 'stubborn') process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
console.log('ready');
require('node:fs').writeFileSync(require('node:path').join(process.env.TRADEDESK_BOT_STATE_DIR, 'ready'), '');
setInterval(() => {}, 1000);
`;

describe('child runtime', () => {
  let dir: string;
  let rt: ChildRuntime;
  const exits: BotExit[] = [];

  const launch = (id: string, mode: string): BotLaunch => ({
    spec: { bot_id: id, account: 'acct', mqtt_url: 'mqtt://127.0.0.1:1', mqtt_username: `bot-${id}`, strategy: { script: { name: mode, config: {} } }, autostart: true, on_restart: 'resume' },
    password: `pw-${id}`,
    stateDir: join(dir, id),
  });
  const exitOf = (id: string) => waitFor(`the exit of ${id}`, () => exits.find((e) => e.botId === id));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'child-rt-'));
  });
  afterEach(async () => {
    await rt?.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runtime = (env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) => {
    rt = new ChildRuntime({ command: [process.execPath, '-e', SCRIPT], env, logger: createLogger('silent') });
    rt.onExit((e) => exits.push(e));
    return rt;
  };

  it('reports a crash once, with its exit code and its last output lines', async () => {
    const r = runtime();
    await r.launch(launch('crasher', 'crash'));
    const exit = await exitOf('crasher');
    expect(exit.code).toBe(3);
    expect(exit.signal).toBeNull();
    expect(exit.tail).toHaveLength(TAIL_LINES);
    expect(exit.tail.at(-1)).toBe('Error: the strategy blew up');
    expect(exit.tail).toContain('line 60');
    expect(exit.tail).not.toContain('line 1');
    expect(await r.running('crasher')).toBe(false);
    await new Promise((res) => setTimeout(res, 100));
    expect(exits.filter((e) => e.botId === 'crasher')).toHaveLength(1);
  });

  it('gives the bot its spec, its password and its state dir, and none of the server\'s secrets', async () => {
    const r = runtime({ PATH: process.env.PATH, DATABASE_URL: 'postgres://u:p@h/db', VAULT_KEY: 'k'.repeat(64), API_PASSWORD: 'admin-pw', API_USERNAME: 'admin', MQTT_URL: 'mqtt://admin:x@h', SOME_SECRET: 's', EXCHANGE_API_KEY: 'x', LOG_LEVEL: 'info' });
    await r.launch(launch('envy', 'env'));
    const exit = await exitOf('envy');
    expect(exit.code).toBe(0);
    const seen = JSON.parse(exit.tail.join('\n')) as { keys: string[]; password: string; stateDir: string; spec: { bot_id: string } };
    expect(seen.password).toBe('pw-envy');
    expect(seen.stateDir).toBe(join(dir, 'envy'));
    expect(seen.spec.bot_id).toBe('envy');
    expect(seen.keys).toContain('LOG_LEVEL');
    for (const k of ['DATABASE_URL', 'VAULT_KEY', 'API_PASSWORD', 'API_USERNAME', 'MQTT_URL', 'SOME_SECRET', 'EXCHANGE_API_KEY']) expect(seen.keys).not.toContain(k);
  });

  it('stops a bot that ends on SIGTERM, and kills one that ignores it after the grace', async () => {
    const r = runtime();
    await r.launch(launch('polite', 'run'));
    await r.launch(launch('stubborn', 'stubborn'));
    await expect(r.launch(launch('polite', 'run'))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await r.running('polite')).toBe(true);
    // Once it marks itself ready, its SIGTERM handler is in place.
    await waitFor('the stubborn bot to be ready', () => existsSync(join(dir, 'stubborn', 'ready')));
    await r.stop('polite', 5_000);
    expect((await exitOf('polite')).signal).toBe('SIGTERM');
    await r.stop('stubborn', 300);
    const stubborn = await exitOf('stubborn');
    expect(stubborn.signal).toBe('SIGKILL');
    expect(stubborn.tail).toContain('ignoring SIGTERM');
    expect(await r.running('stubborn')).toBe(false);
    await r.stop('stubborn', 300); // not running: a no-op
    expect(await r.reattach('polite')).toBe(false);
  });

  it('refuses a bot command that cannot start, with a clear error', async () => {
    const r = new ChildRuntime({ command: [join(dir, 'no-such-binary')], logger: createLogger('silent') });
    await expect(r.launch(launch('ghost', 'run'))).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(await r.running('ghost')).toBe(false);
  });

  it('withholds secrets by name', () => {
    const env = botEnvironment({ PATH: '/bin', HOME: '/h', GITHUB_TOKEN: 't', AWS_SECRET_ACCESS_KEY: 'a', DATABASE_URL: 'x', TRADEDESK_BOT: '{}', NODE_ENV: 'test' });
    expect(Object.keys(env).sort()).toEqual(['HOME', 'NODE_ENV', 'PATH']);
  });
});
