import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const START = Date.UTC(2024, 0, 1);

/** bollinger_v1 on sim over `days` days of 1m candles. */
const backtest = (days: number, config: Record<string, unknown> = {}) => ({
  controller: { name: 'bollinger_v1', config },
  connector: 'sim',
  trading_pair: 'BTC-USDT',
  start: new Date(START).toISOString(),
  end: START + days * DAY - MINUTE,
  resolution: '1m',
  trade_cost: 0.001,
});

/** 4 × 3 = 12 trials. */
const SPACE = { bb_length: { min: 20, max: 80, step: 20 }, bb_std: { values: [1.5, 2, 2.5] } };
const OBJECTIVE = { metric: 'net_pnl_pct', direction: 'maximize' };

describe.each(drivers())('optimization over REST and MCP on %s', (driver) => {
  let s: TestServer;
  let mcp: Client;

  const get = async (id: string) => {
    const r = await s.call('GET', `/backtesting/optimizations/${id}`);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const ended = (id: string) =>
    waitFor(`optimization ${id} to end`, async () => {
      const b = await get(id);
      return ['queued', 'running'].includes(b.job.status) ? undefined : b;
    }, { timeoutMs: 120_000, everyMs: 50 });
  const count = async () => (await s.call('GET', '/backtesting/optimizations?limit=200')).body.data.length as number;
  const paths = (r: { body: { error: { details: { issues: Array<{ path: string }> } } } }) => r.body.error.details.issues.map((i) => i.path);

  beforeAll(async () => {
    s = await testServer(driver, { toolsets: 'default,backtesting' });
    mcp = await mcpClient(s.url, ADMIN_AUTH, 'backtesting');
  });
  afterAll(async () => {
    await mcp?.close().catch(() => undefined);
    await s?.stop();
  });

  it('refuses bad input with field paths and starts no job', async () => {
    const before = await count();
    const post = (body: Record<string, unknown>) => s.call('POST', '/backtesting/optimize', { backtest: backtest(2), space: SPACE, objective: OBJECTIVE, ...body });
    const badPoint = await post({ space: { bb_length: { min: 0, max: 40, step: 20 } } });
    expect(badPoint.status, badPoint.text).toBe(400);
    expect(paths(badPoint)).toEqual(['space.bb_length']);
    expect(badPoint.body.error.details.trial).toBe(0);
    const tooMany = await post({ space: { bb_length: { min: 2, max: 5000, step: 1 }, bb_std: { min: 0.5, max: 3, step: 0.5 } } });
    expect(tooMany.status, tooMany.text).toBe(400);
    expect(paths(tooMany)).toEqual(['space']);
    const overCap = await post({ max_trials: 10 });
    expect(paths(overCap)).toEqual(['space']);
    const drawTooMany = await post({ search: { method: 'random', n: 20_000, random_state: 1 } });
    expect(paths(drawTooMany)).toContain('search.n');
    const metric = await post({ objective: { metric: 'luck', direction: 'maximize' } });
    expect(paths(metric)).toContain('objective.metric');
    const base = await post({ backtest: backtest(2, { bb_std: -1 }) });
    expect(paths(base)).toEqual(['backtest.controller.config.bb_std']);
    const range = await post({ space: { bb_length: { min: 40, max: 20, step: 10 } } });
    expect(paths(range)).toContain('space.bb_length.max');
    const future = await post({ backtest: { ...backtest(2), end: Date.now() + DAY } });
    expect(paths(future)).toEqual(['backtest.end']);
    const windows = await post({ search: { method: 'walk_forward', windows: 20, in_sample_segments: 20 }, backtest: { ...backtest(2, { interval: '1d' }), resolution: '1d' } });
    expect(paths(windows)).toEqual(['search.windows']);
    // A trial the backtest cannot feed: its interval is finer than the resolution, or it names another market.
    const interval = await post({ space: { bb_length: { values: [20] }, interval: { values: ['15m', '3m'] } }, backtest: { ...backtest(2, { interval: '15m' }), resolution: '5m' } });
    expect(interval.status, interval.text).toBe(400);
    expect(paths(interval)).toEqual(['space.interval']);
    expect(interval.body.error.details.trial).toBe(1);
    const pair = await post({ space: { trading_pair: { values: ['BTC-USDT', 'ETH-USDT'] } } });
    expect(paths(pair)).toEqual(['space.trading_pair']);
    const baseResolution = await post({ backtest: { ...backtest(2, { interval: '3m' }), resolution: '5m' } });
    expect(paths(baseResolution)).toEqual(['backtest.resolution']);
    // A field the controller does not have is named where it was written.
    expect(paths(await post({ space: { ...SPACE, 'no_such.field': { values: [1, 2] } } }))).toEqual(['space.no_such.field']);
    expect(paths(await post({ backtest: backtest(2, { bogus: 1 }) }))).toEqual(['backtest.controller.config.bogus']);
    // 5,000 trials over two years of 1m candles: five billion candles to walk.
    const costly = await post({ space: { bb_length: { min: 20, max: 2519, step: 1 }, bb_std: { values: [1, 2] } }, max_trials: 10_000, backtest: { ...backtest(730) } });
    expect(costly.status, costly.text).toBe(400);
    expect(costly.body.error.details.issues[0]).toEqual({ path: 'space', message: expect.stringMatching(/^the search walks 5,256,000,000 candles in all \(5,000 trials\); at most 1,000,000,000/) });
    const noPair = await post({ backtest: { ...backtest(2), trading_pair: 'NOPE-USDT' } });
    expect(paths(noPair)).toEqual(['backtest.trading_pair']);
    expect(paths(await post({ backtest: { ...backtest(2), start: '2010-01-01T00:00:00Z', end: '2010-01-02T23:59:00Z' } }))).toEqual(['backtest.start']);
    expect(await count()).toBe(before);
  });

  it('runs a 12-trial grid to the end and ranks it; the winner’s metrics are those of a plain backtest with its params', async () => {
    const r = await s.call('POST', '/backtesting/optimize', { backtest: backtest(3), space: SPACE, objective: OBJECTIVE, constraints: [{ metric: 'total_executors', op: 'gte', value: 1 }], top_n: 5, wait_seconds: 30 });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status).toBe('succeeded');
    const summary = r.body.summary;
    expect(summary).toMatchObject({ trials_done: 12, trials_total: 12, partial: false, objective: OBJECTIVE });
    expect(summary.top.length).toBeGreaterThan(0);
    expect(summary.top.length).toBeLessThanOrEqual(5);

    const full = await get(r.body.job.job_id);
    const board = full.result.leaderboard as Array<{ rank: number; params: Record<string, number>; metrics: { net_pnl_pct: number; total_executors: number } }>;
    expect(board.length).toBe(Math.min(5, 12 - full.result.trials_rejected));
    expect(board.map((t) => t.rank)).toEqual(board.map((_, i) => i + 1));
    const values = board.map((t) => t.metrics.net_pnl_pct);
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    expect(board.every((t) => t.metrics.total_executors >= 1)).toBe(true);
    expect(full.result.windows).toBeNull();
    expect(summary.top[0].params).toEqual(board[0]!.params);

    const plain = await s.call('POST', '/backtesting/run', { ...backtest(3, board[0]!.params), wait_seconds: 30 });
    expect(plain.body.job.status).toBe('succeeded');
    expect(plain.body.summary.metrics).toEqual(board[0]!.metrics);

    const saved = await s.call('POST', `/backtesting/optimizations/${r.body.job.job_id}/save`, { name: 'bb_best' });
    expect(saved.status, saved.text).toBe(201);
    expect(saved.body.trial).toMatchObject({ rank: 1, params: board[0]!.params });
    expect(saved.body.controller_config).toMatchObject({ name: 'bb_best', controller_name: 'bollinger_v1', current_version: 1 });
    expect(saved.body.controller_config.version.config).toMatchObject({ ...board[0]!.params, connector_name: 'sim', trading_pair: 'BTC-USDT' });
    const second = await s.call('POST', `/backtesting/optimizations/${r.body.job.job_id}/save`, { name: 'bb_second', rank: 2 });
    expect(second.status, second.text).toBe(201);
    expect(second.body.trial.params).toEqual(board[1]!.params);
    const past = await s.call('POST', `/backtesting/optimizations/${r.body.job.job_id}/save`, { name: 'bb_past', rank: 6 });
    expect(past.status, past.text).toBe(400);
    expect(paths(past)).toEqual(['rank']);
  }, 120_000);

  it('walk-forward fits each window and scores its winner on the next segment', async () => {
    const r = await s.call('POST', '/backtesting/optimize', {
      backtest: backtest(4),
      space: { bb_length: { values: [20, 40] }, bb_std: { values: [1.5, 2] } },
      search: { method: 'walk_forward', windows: 2, in_sample_segments: 2 },
      objective: { metric: 'max_drawdown_pct', direction: 'minimize' },
      wait_seconds: 30,
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status).toBe('succeeded');
    expect(r.body.summary).toMatchObject({ trials_done: 10, trials_total: 10, partial: false });
    const full = await get(r.body.job.job_id);
    const w = full.result.windows;
    expect(w).toHaveLength(2);
    expect(w[0]).toMatchObject({ in_sample: { start: START, end: START + 2 * DAY - MINUTE }, out_of_sample: { start: START + 2 * DAY, end: START + 3 * DAY - MINUTE } });
    expect(w[1]).toMatchObject({ in_sample: { start: START + DAY, end: START + 3 * DAY - MINUTE }, out_of_sample: { start: START + 3 * DAY, end: START + 4 * DAY - MINUTE } });
    for (const x of w) {
      expect(x.params).not.toBeNull();
      expect(x.out_of_sample_metrics).not.toBeNull();
    }
    // The second window's winner is the leaderboard's first: the leaderboard is the newest window's fit.
    expect(full.result.leaderboard[0].params).toEqual(w[1].params);
    expect(full.result.leaderboard[0].metrics).toEqual(w[1].in_sample_metrics);
    expect(r.body.summary.out_of_sample_mean).toBeCloseTo((r.body.summary.windows[0].out_of_sample_value + r.body.summary.windows[1].out_of_sample_value) / 2, 12);
  });

  it('a walk-forward where no point qualifies ends complete, not partial: a window without a winner has no out-of-sample run', async () => {
    const r = await s.call('POST', '/backtesting/optimize', {
      backtest: backtest(4),
      space: { bb_length: { values: [20, 40] } },
      search: { method: 'walk_forward', windows: 2, in_sample_segments: 2 },
      objective: OBJECTIVE,
      constraints: [{ metric: 'total_executors', op: 'gte', value: 1_000_000 }],
      wait_seconds: 30,
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body.job.status).toBe('succeeded');
    expect(r.body.summary).toMatchObject({ trials_done: 4, trials_total: 4, trials_rejected: 4, partial: false });
    expect(r.body.job.progress).toBe(1);
    expect(r.body.job.progress_message).toBe('done: 4 of 4 trials');
  });

  it('reports trials done and the best so far, can be canceled, and keeps what finished as a partial leaderboard', async () => {
    const r = await s.call('POST', '/backtesting/optimize', { backtest: backtest(3), space: { bb_length: { min: 20, max: 400, step: 1 } }, search: { method: 'random', n: 300, random_state: 3 }, objective: OBJECTIVE });
    expect(r.status, r.text).toBe(202);
    const id = r.body.job.job_id;
    const moving = await waitFor('trials to finish', async () => {
      const b = await get(id);
      return /trials: [1-9]\d* of 300/.test(b.job.progress_message ?? '') ? b.job : undefined;
    }, { timeoutMs: 90_000, everyMs: 50 });
    expect(moving.progress_message).toMatch(/s left/);
    const c = await s.call('POST', `/jobs/${id}/cancel`);
    expect(c.status, c.text).toBe(200);
    const end = await ended(id);
    expect(end.job.status).toBe('canceled');
    expect(end.result.partial).toBe(true);
    expect(end.result.trials_total).toBe(300);
    expect(end.result.trials_done).toBeGreaterThan(0);
    expect(end.result.trials_done).toBeLessThan(300);
    expect(end.result.leaderboard.length).toBe(Math.min(20, end.result.trials_done - end.result.trials_rejected));
    expect(end.job.result.partial).toBe(true);
    // Its progress stays at the share that ran.
    expect(end.job.progress).toBeLessThan(1);
    expect(end.job.progress_message).toBe(`done: ${end.result.trials_done} of 300 trials`);
    const del = await s.call('DELETE', `/backtesting/optimizations/${id}`);
    expect(del.status, del.text).toBe(200);
    expect((await s.call('GET', `/backtesting/optimizations/${id}`)).status).toBe(404);
  }, 180_000);

  it('over MCP the run answers with the top five and their params', async () => {
    const res = await mcp.callTool({ name: 'backtesting_run_optimization', arguments: { backtest: backtest(2), space: { bb_length: { values: [20, 30, 40, 50, 60, 70] } }, objective: OBJECTIVE, wait_seconds: 30 } }, CallToolResultSchema, { timeout: 60_000 });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    const out = res.structuredContent as { job: { status: string }; summary: { trials_done: number; top: Array<{ params: { bb_length: number }; metrics: Record<string, unknown> }> } };
    expect(out.job.status).toBe('succeeded');
    expect(out.summary.trials_done).toBe(6);
    expect(out.summary.top.length).toBeLessThanOrEqual(5);
    for (const t of out.summary.top) {
      expect([20, 30, 40, 50, 60, 70]).toContain(t.params.bb_length);
      expect(Object.keys(t.metrics).sort()).toEqual(['max_drawdown_pct', 'net_pnl_pct', 'net_pnl_quote', 'profit_factor', 'sharpe_ratio', 'total_executors', 'win_rate']);
    }
  }, 120_000);
});
