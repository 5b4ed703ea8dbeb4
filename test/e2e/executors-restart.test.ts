import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimExchange } from '../../src/core/exchange/sim/sim-exchange.js';
import { basicHeader, httpJson } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';
import { crash, ensureBuilt, startServeProcess, type ServeProcess } from './dist.js';

/**
 * An executor survives a SIGKILL of the real CLI with its barriers: created, killed at once, and after
 * the restart its take profit or stop loss fires when the sim price gets there, which it does only
 * after the restart. The server runs on the wall clock, so the test cannot move the price; it reads the
 * future instead. The sim price is a pure function of (seed, market, time), so the test computes the
 * coming path, picks a start time and a barrier the price will not reach before the restart is done but
 * will soon after, and checks the server closes the position then, for that reason.
 */

const USER = 'exec-admin';
const PASS = 'exec-password-123';
const AUTH = basicHeader(USER, PASS);
/** From creation to the restarted server being sure to run: create, SIGKILL, start again. */
const EARLY_MS = 25_000;
/** After that, the barrier must be reached within this long. */
const LATE_MS = 45_000;
/** The barrier sits this far (a PnL fraction) beyond the best the early window reaches. */
const MARGIN = 0.00003;

const sim = new SimExchange('sim');
const market = sim.market('spot', 'BTC-USDT');
const book = (t: number) => sim.orderBook(market, 1, t);

interface Plan {
  start: number;
  config: { stop_loss?: number; take_profit?: number };
  expected: 'STOP_LOSS' | 'TAKE_PROFIT';
  hitBy: number;
}

/**
 * A start time within the next minute and a barrier for a 0.001 BTC market buy placed then: the buy
 * fills at the ask within a second or so of the start, and the long is valued at the bid. Every entry in
 * that second is considered, so the plan holds whichever it is.
 */
function plan(from: number): Plan | null {
  for (let start = from; start < from + 60_000; start += 1000) {
    const entries: number[] = [];
    for (let t = start - 500; t <= start + 2000; t += 100) entries.push(book(t).asks[0]!.price);
    const lo = Math.min(...entries);
    const hi = Math.max(...entries);
    let best = -Infinity;
    let worst = Infinity;
    for (let t = start; t <= start + EARLY_MS; t += 100) {
      const bid = book(t).bids[0]!.price;
      best = Math.max(best, bid / lo - 1);
      worst = Math.min(worst, bid / hi - 1);
    }
    const takeProfit = best + MARGIN;
    const stopLoss = -(worst - MARGIN);
    for (let t = start + EARLY_MS; t <= start + EARLY_MS + LATE_MS; t += 100) {
      const bid = book(t).bids[0]!.price;
      if (takeProfit > 0 && bid / hi - 1 >= takeProfit) return { start, config: { take_profit: takeProfit }, expected: 'TAKE_PROFIT', hitBy: t };
      if (stopLoss > 0 && bid / lo - 1 <= -stopLoss) return { start, config: { stop_loss: stopLoss }, expected: 'STOP_LOSS', hitBy: t };
    }
  }
  return null;
}

describe('an executor across a SIGKILL of the real CLI', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServeProcess | undefined;
  const call = (method: string, path: string, body?: unknown) => httpJson(server!.url, method, path, body, AUTH);

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'td-e2e-executors-'));
    env = { DATA_DIR: dataDir, API_USERNAME: USER, API_PASSWORD: PASS, EXECUTOR_INTERVAL_MS: '250' };
    server = await startServeProcess(env);
  }, 120_000);

  afterAll(async () => {
    if (server) await crash(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes after the restart and its barrier fires when the price gets there', async () => {
    const p = plan(Date.now() + 2000);
    expect(p, 'the sim price moves within two minutes from some start in the next minute').not.toBeNull();
    await new Promise((r) => setTimeout(r, Math.max(0, p!.start - Date.now())));

    const created = await call('POST', '/executors', {
      executor_config: { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.001', triple_barrier: p!.config },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.executor.executor_id as string;
    expect(created.body.executor.status).toBe('active');
    const opened = await call('GET', `/executors/${id}`);
    expect(opened.body.orders.map((o: { side: string; status: string }) => [o.side, o.status])).toEqual([['buy', 'filled']]);

    await crash(server!);
    server = await startServeProcess(env);
    const restartedAt = Date.now();
    // The plan holds only if the barrier could not have been reached before this point.
    expect(restartedAt, 'the restart took longer than the plan allows').toBeLessThan(p!.start + EARLY_MS);
    expect((await call('GET', `/executors/${id}`)).body.executor.status).toBe('active');

    const ended = await waitFor(
      'the executor to end',
      async () => {
        const r = await call('GET', `/executors/${id}`);
        return r.body.executor.status === 'terminated' ? r.body : undefined;
      },
      { timeoutMs: Math.max(0, p!.hitBy - Date.now()) + 15_000, everyMs: 250 },
    );
    expect(ended.executor.close_type).toBe(p!.expected);
    expect(Date.parse(ended.executor.closed_at)).toBeGreaterThanOrEqual(restartedAt);
    expect(ended.orders.map((o: { side: string; order_type: string; status: string }) => [o.side, o.order_type, o.status])).toEqual([
      ['buy', 'market', 'filled'],
      ['sell', 'market', 'filled'],
    ]);
    expect(ended.report.position_amount).toBe(0);
  }, 240_000);
});
