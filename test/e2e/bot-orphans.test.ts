import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateDatabase } from '../helpers/config.js';
import { basicHeader, httpJson } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { crash, ensureBuilt, startServeProcess, type ServeProcess } from './dist.js';

/**
 * A SIGKILL of the real server with a child-process bot trading: the bot, whose stdin (a pipe from the
 * server) closes, saves its state and exits within seconds instead of trading on unattended. The server
 * started again on the same data launches it again, once, and it resumes its strategy from its saved
 * state: its orders carry on under the same run id, and each fill is recorded once, one for each fill of
 * the account.
 */

const USER = 'orphan-admin';
const PASS = 'orphan-password-123';
const AUTH = basicHeader(USER, PASS);
const BOT = 'orphan-twap';
/**
 * The server's log level, which its bots inherit: at `error` the bot writes nothing when its broker
 * goes, so it does not die by chance of a write to the dead server's pipe (EPIPE). Only its watch on
 * stdin can end it.
 */
const QUIET = 'error';
/** A market buy of 5 USDT every second: fills before the kill and after the restart. */
const TWAP = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '3000', duration: 600, interval: 1 };

/** The live processes whose parent is `ppid` and whose command line holds `word` (from /proc: no tool needed). */
function childrenOf(ppid: number, word: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) !== ppid || state === 'Z') continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(word)) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Whether `pid` still runs (a zombie nobody reaped has ended). */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe.skipIf(!process.env.DATABASE_URL)('a child bot when its server is SIGKILLed', () => {
  let dataDir: string;
  let db: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let server: ServeProcess | undefined;
  const botPids: number[] = [];
  const call = (method: string, path: string, body?: unknown) => httpJson(server!.url, method, path, body, AUTH);
  const fills = async () => {
    const r = await call('GET', `/bot-orchestration/bots/${BOT}/history?limit=500`);
    expect(r.status, r.text).toBe(200);
    return r.body.data as Array<{ fill_id: string; client_order_id: string }>;
  };

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'td-e2e-orphans-'));
    db = await privateDatabase(process.env.DATABASE_URL!);
    env = { DATA_DIR: dataDir, DATABASE_URL: db.url, API_USERNAME: USER, API_PASSWORD: PASS };
    server = await startServeProcess(env, QUIET);
  }, 120_000);

  afterAll(async () => {
    if (server) await crash(server);
    for (const pid of botPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await db?.drop().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the bot exits within seconds, and the restarted server launches it again once; it resumes and no fill is recorded twice', async () => {
    const acct = await call('POST', '/accounts', { account_name: 'orphan_desk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '100000' } }] });
    expect(acct.status, acct.text).toBe(201);
    const dep = await call('POST', '/bot-orchestration/deploy', { bot_id: BOT, account_name: 'orphan_desk', runtime: 'child', script: { name: 'twap_buyer_v1', config: TWAP } });
    expect(dep.status, dep.text).toBe(201);
    expect(dep.body.bot).toMatchObject({ observed_state: 'running', desired_state: 'running', runtime: 'child' });
    const [first] = await waitFor('the bot process', () => {
      const pids = childrenOf(server!.child.pid!, 'bot');
      return pids.length ? pids : undefined;
    });
    botPids.push(first!);
    await waitFor('two fills before the kill', async () => ((await fills()).length >= 2 ? true : undefined), { timeoutMs: 20_000, everyMs: 250 });

    await crash(server!);
    const killedAt = Date.now();
    await waitFor('the orphaned bot to exit', () => !alive(first!), { timeoutMs: 5_000, everyMs: 50 });
    const exitedAfterMs = Date.now() - killedAt;
    expect(exitedAfterMs).toBeLessThan(5_000);
    server = await startServeProcess(env, QUIET);
    const before = await fills();

    const back = await waitFor('the bot to run again', async () => {
      const r = await call('GET', `/bot-orchestration/bots/${BOT}/status`);
      return r.body.bot?.observed_state === 'running' ? r.body : undefined;
    }, { timeoutMs: 30_000, everyMs: 250 });
    expect(back.bot.desired_state).toBe('running');
    const pids = childrenOf(server.child.pid!, 'bot');
    expect(pids).toHaveLength(1);
    botPids.push(...pids);
    const runs = await call('GET', `/bot-orchestration/bots/${BOT}/runs`);
    expect(runs.body.runs.map((r: { status: string }) => r.status)).toEqual(['running', 'interrupted']);

    await waitFor('fills after the restart', async () => ((await fills()).length >= before.length + 2 ? true : undefined), { timeoutMs: 20_000, everyMs: 250 });
    const stop = await call('POST', `/bot-orchestration/bots/${BOT}/stop`, {});
    expect(stop.status, stop.text).toBe(200);
    expect(stop.body.bot.observed_state).toBe('stopped');

    // Each fill of the account is the bot's, recorded once: as many bot fills as account fills, no id twice.
    const account = async () => {
      const r = await call('GET', '/trading/history?account_name=orphan_desk&limit=1000');
      expect(r.status, r.text).toBe(200);
      return r.body.data as unknown[];
    };
    const all = await waitFor('every fill reported', async () => {
      const [f, a] = [await fills(), await account()];
      return f.length === a.length ? f : undefined;
    }, { timeoutMs: 10_000, everyMs: 250 });
    expect(new Set(all.map((f) => f.fill_id)).size).toBe(all.length);
    expect(all.map((f) => f.fill_id)).toEqual(expect.arrayContaining(before.map((f) => f.fill_id)));
    // Resumed, not started afresh: every order of both processes belongs to the one run of its strategy.
    // (A client order id is `x-<the run's hash>-o<n>`.)
    const runIds = new Set(all.map((f) => f.client_order_id.replace(/-o\d+$/, '')));
    expect([...runIds], JSON.stringify(all.map((f) => f.client_order_id))).toHaveLength(1);
  }, 150_000);
});
