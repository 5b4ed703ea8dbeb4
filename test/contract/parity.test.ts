import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { channelsOf, pathParams, type AnyCommand } from '../../src/core/command/index.js';
import type { BacktestResult } from '../../src/core/backtest/engine.js';
import { thinSeries } from '../../src/core/backtest/thin-series.js';
import { type ErrorCode } from '../../src/core/errors.js';
import { allCommands } from '../../src/tools/index.js';
import { ADMIN_AUTH, basicHeader, drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { MCP_PAGE_LIMIT } from '../../src/core/pagination.js';
import { ManualClock } from '../../src/core/clock.js';
import { waitFor } from '../helpers/wait.js';
import { FakeBotControl } from '../helpers/fake-bot-control.js';
import { routesAsToolsIn } from '../../src/mcp/rest-hints.js';

type Outcome = 'ok' | ErrorCode;
type Input = Record<string, unknown>;

/** What an input builder may use: the server (for setup calls such as placing an order to cancel) and the pinned ticker. */
interface CaseCtx {
  s: TestServer;
  ticker(connector: string, pair: string): Promise<{ bid: number; ask: number; last: number }>;
  /** A fresh suffix for client_order_ids. */
  unique(): string;
}

interface Case {
  label: string;
  tool: string;
  /** The input, or a builder run when the case runs (reads the ticker, places an order to act on). */
  input: Input | ((ctx: CaseCtx) => Promise<Input>);
  /** What both faces must answer; stating it keeps "both fail the same wrong way" from passing. */
  expected: Outcome;
  /** The builder runs once per face: each call consumes the state it set up (an order to cancel, a position to close). */
  perFace?: boolean;
}

const c = (tool: string, label: string, input: Case['input'], expected: Outcome, perFace?: boolean): Case => ({ tool, label: `${tool}: ${label}`, input, expected, perFace });

/** Commands whose every call changes state: two calls cannot return deep-equal outputs (ids, times). */
const STATEFUL = new Set(['trading_place_order', 'trading_cancel_order', 'trading_close_position']);

/**
 * Fields that differ between two successful calls by design (when a switch was set), or between the
 * faces by design (free text a principal wrote reaches a model only fenced: src/mcp/untrusted.ts),
 * dropped before comparing.
 */
/** A stored backtest result with each executor's first_refusal.reason dropped. */
/** A backtest result with its series thinned as the MCP face thins it. */
function atModelResolution(result: Record<string, unknown> | null): Record<string, unknown> | null {
  return result?.series ? { ...result, series: thinSeries(result.series as BacktestResult['series'], 250) } : result;
}

function withoutRefusalReasons(r: Record<string, unknown>): unknown {
  const executors = r.executors as Array<Record<string, unknown>> | undefined;
  if (!executors) return r;
  return {
    ...r,
    executors: executors.map((e) => {
      const custom = e.custom as Record<string, unknown> | undefined;
      const refusal = custom?.first_refusal as Record<string, unknown> | undefined;
      return refusal ? { ...e, custom: { ...custom, first_refusal: { ...refusal, reason: undefined } } } : e;
    }),
  };
}

const VOLATILE: Record<string, (o: Record<string, unknown>) => unknown> = {
  safety_set_kill_switch: (o) => ({ ...o, kill_switch: { ...(o.kill_switch as object), set_at: undefined, reason: undefined } }),
  audit_search_events: (o) => ({ ...o, data: (o.data as Array<Record<string, unknown>>).map((r) => ({ ...r, input: undefined, detail: undefined })) }),
  // A job's input is fenced over MCP (it may quote another principal); a new job has its own id and times.
  jobs_get_job: (o) => ({ job: { ...(o.job as object), input: undefined } }),
  jobs_list_jobs: (o) => ({ ...o, data: (o.data as Array<Record<string, unknown>>).map((j) => ({ ...j, input: undefined })) }),
  jobs_cancel_job: (o) => ({ job: jobStable(o.job as Record<string, unknown>) }),
  jobs_start_candle_backfill: (o) => ({ job: jobStable(o.job as Record<string, unknown>) }),
  // Each face writes to a config of its own (a new id, a new name).
  strategies_create_controller_config: (o) => ({ controller_config: configStable(o.controller_config as Record<string, unknown>) }),
  strategies_update_controller_config: (o) => ({ controller_config: configStable(o.controller_config as Record<string, unknown>) }),
  strategies_delete_controller_config: (o) => ({ ...o, config_id: undefined }),
  // Each face creates (or stops) an executor of its own: ids and times differ, what it is does not.
  executors_create_executor: (o) => ({ executor: executorStable(o.executor as Record<string, unknown>) }),
  executors_stop_executor: (o) => ({ executor: executorStable(o.executor as Record<string, unknown>), keep_position: o.keep_position }),
  // Each run is its own job: ids and times differ, the summary (digest included) does not.
  backtesting_run_backtest: (o) => ({ job: jobStable(o.job as Record<string, unknown>), summary: { ...(o.summary as object), result_id: undefined } }),
  // A refusal's message is a `reason`, fenced over MCP (on the live path it may be an exchange's text).
  // ...and a model gets the series at 250 points (the same indexes, taken from the stored 5,000).
  backtesting_get_backtest: (o) => ({ job: { ...(o.job as object), input: undefined }, result: atModelResolution(withoutRefusalReasons(o.result as Record<string, unknown>) as Record<string, unknown> | null) }),
  backtesting_list_backtests: (o) => ({ ...o, data: (o.data as Array<Record<string, unknown>>).map((j) => ({ ...j, input: undefined })) }),
  backtesting_delete_backtest: (o) => ({ ...o, job_id: undefined }),
  backtesting_run_optimization: (o) => ({ job: jobStable(o.job as Record<string, unknown>), summary: { ...(o.summary as object), result_id: undefined } }),
  backtesting_get_optimization: (o) => ({ job: { ...(o.job as object), input: undefined }, result: o.result }),
  backtesting_list_optimizations: (o) => ({ ...o, data: (o.data as Array<Record<string, unknown>>).map((j) => ({ ...j, input: undefined })) }),
  backtesting_delete_optimization: (o) => ({ ...o, job_id: undefined }),
  // Each save is a config of its own: its id and times differ, its config does not.
  backtesting_create_optimized_config: (o) => ({ trial: o.trial, config: ((o.controller_config as Record<string, unknown>).version as Record<string, unknown>).config }),
  // Each face deploys a bot of its own: its id (and the name it defaults to) differ, what it runs does not.
  bots_deploy_bot: (o) => ({ bot: botStable(o.bot as Record<string, unknown>) }),
  bots_deploy_controllers: (o) => ({ bot: botStable(o.bot as Record<string, unknown>) }),
  bots_run_script: (o) => ({ bot: botStable(o.bot as Record<string, unknown>) }),
};

function botStable(b: Record<string, unknown>): Record<string, unknown> {
  return { ...b, bot_id: undefined, name: undefined };
}

/** A TWAP of 100 USDT in ten slices on sim. */
const TWAP = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '100', duration: 600, interval: 60 };

function configStable(c: Record<string, unknown>): Record<string, unknown> {
  return { ...c, config_id: undefined, name: undefined };
}

/** A bollinger_v1 config on sim, as an example config is made. */
const BOLLINGER = { connector_name: 'sim', trading_pair: 'BTC-USDT' };

/** Saves a bollinger_v1 config over REST; returns its id. */
async function savedConfig(ctx: CaseCtx): Promise<string> {
  const r = await ctx.s.call('POST', '/controllers/bollinger_v1/configs', { name: `parity_${ctx.unique()}`, config: BOLLINGER });
  expect(r.status, r.text).toBe(201);
  return r.body.controller_config.config_id as string;
}

function executorStable(e: Record<string, unknown>): Record<string, unknown> {
  return { executor_type: e.executor_type, account_name: e.account_name, connector_name: e.connector_name, trading_pair: e.trading_pair, side: e.side, status: e.status, close_type: e.close_type, stop_requested: e.stop_requested, created_by: e.created_by };
}

/** A long position executor on sim with barriers the pinned price never reaches. */
const WIDE_POSITION = { type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.0005', triple_barrier: { stop_loss: 0.5, take_profit: 0.5 } };

/** Creates an executor over REST and returns its id. */
async function executorVia(ctx: CaseCtx): Promise<string> {
  const r = await ctx.s.call('POST', '/executors', { executor_config: WIDE_POSITION });
  expect(r.status, r.text).toBe(201);
  return r.body.executor.executor_id as string;
}

function jobStable(j: Record<string, unknown>): Record<string, unknown> {
  return { kind: j.kind, status: j.status, principal: j.principal, account_name: j.account_name, cancel_requested: j.cancel_requested, error: j.error };
}

/** A day of bollinger_v1 on sim 1m candles: a backtest that ends within seconds. */
const SMALL_BACKTEST = { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: '2024-03-01T00:00:00Z', end: '2024-03-01T23:59:00Z', wait_seconds: 30 };

async function finishedBacktest(ctx: CaseCtx): Promise<string> {
  const r = await ctx.s.call('POST', '/backtesting/run', SMALL_BACKTEST);
  expect(r.status, r.text).toBe(202);
  expect(r.body.job.status, r.text).toBe('succeeded');
  return r.body.job.job_id as string;
}

/** Four bb_length values of bollinger_v1 over a day of sim 1m candles: an optimization that ends within seconds. */
const SMALL_OPTIMIZATION = {
  backtest: { ...SMALL_BACKTEST, wait_seconds: undefined },
  space: { bb_length: { min: 20, max: 50, step: 10 } },
  objective: { metric: 'net_pnl_pct', direction: 'maximize' },
  wait_seconds: 30,
};

async function finishedOptimization(ctx: CaseCtx): Promise<string> {
  const r = await ctx.s.call('POST', '/backtesting/optimize', SMALL_OPTIMIZATION);
  expect(r.status, r.text).toBe(202);
  expect(r.body.job.status, r.text).toBe('succeeded');
  return r.body.job.job_id as string;
}

/** A day of hourly sim candles: a backfill that ends within a second. */
const SMALL_BACKFILL = { connector_name: 'sim', trading_pair: 'ETH-USDT', interval: '1h', start_time: '2024-03-01T00:00:00Z', end_time: '2024-03-02T00:00:00Z' };

/** Starts a small backfill over REST and waits until it has succeeded; returns its id. */
async function finishedBackfill(ctx: CaseCtx): Promise<string> {
  const r = await ctx.s.call('POST', '/market-data/candles/backfill', SMALL_BACKFILL);
  expect(r.status, r.text).toBe(202);
  const id = r.body.job.job_id as string;
  await waitFor('the backfill to succeed', async () => (await ctx.s.call('GET', `/jobs/${id}`)).body.job.status === 'succeeded');
  return id;
}

/** A price rounded to the cent, as a string, so that it reaches both faces identically. */
const cents = (v: number) => (Math.round(v * 100) / 100).toFixed(2);

/** A limit buy of 0.001 BTC at half the pinned bid: it rests and never fills. */
const restingBuy = async (ctx: CaseCtx, extra: Input = {}): Promise<Input> => {
  const t = await ctx.ticker('sim', 'BTC-USDT');
  return { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'limit', amount: '0.001', price: cents(t.bid * 0.5), ...extra };
};

/** Places an order over REST for a case to act on; returns the acknowledged order. */
async function placeVia(ctx: CaseCtx, body: Input): Promise<{ order_id: string; client_order_id: string; status: string }> {
  const r = await ctx.s.call('POST', '/trading/orders', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.order;
}

/** Same input on both faces. Inputs are chosen so that a query string can carry them unchanged in meaning. */
const CASES: Case[] = [
  c('connectors_list_connectors', 'no filter', {}, 'ok'),
  c('connectors_list_connectors', 'kind sim', { kind: 'sim' }, 'ok'),
  c('connectors_list_connectors', 'paper perpetuals, a small page', { kind: 'paper', market_type: 'perpetual', limit: 5 }, 'ok'),
  c('connectors_list_connectors', 'search and a cursor', { search: 'sim', limit: 1, cursor: '1' }, 'ok'),
  c('connectors_list_connectors', 'unknown kind', { kind: 'bogus' }, 'VALIDATION_FAILED'),
  c('connectors_list_connectors', 'limit of the wrong type', { limit: true }, 'VALIDATION_FAILED'),
  c('connectors_list_connectors', 'limit out of range', { limit: 0 }, 'VALIDATION_FAILED'),
  c('connectors_list_connectors', 'unknown key', { zz_unknown: 1 }, 'VALIDATION_FAILED'),

  c('connectors_get_connector', 'sim', { connector_name: 'sim' }, 'ok'),
  c('connectors_get_connector', 'sim_perpetual', { connector_name: 'sim_perpetual' }, 'ok'),
  c('connectors_get_connector', 'unknown connector', { connector_name: 'no_such_exchange' }, 'NOT_FOUND'),
  c('connectors_get_connector', 'malformed name', { connector_name: 'Not-Valid' }, 'VALIDATION_FAILED'),
  c('connectors_get_connector', 'unknown key', { connector_name: 'sim', zz_unknown: 'x' }, 'VALIDATION_FAILED'),

  c('connectors_get_trading_rules', 'all sim pairs', { connector_name: 'sim' }, 'ok'),
  c('connectors_get_trading_rules', 'valid pairs as a list', { connector_name: 'sim', trading_pairs: ['BTC-USDT', 'ETH-USDT'] }, 'ok'),
  c('connectors_get_trading_rules', 'valid pairs comma-separated', { connector_name: 'sim', trading_pairs: 'BTC-USDT,ETH-BTC' }, 'ok'),
  c('connectors_get_trading_rules', 'unknown pair', { connector_name: 'sim', trading_pairs: ['DOGE-USDT'] }, 'NOT_FOUND'),
  c('connectors_get_trading_rules', 'malformed pair', { connector_name: 'sim', trading_pairs: ['btc/usdt'] }, 'VALIDATION_FAILED'),
  c('connectors_get_trading_rules', 'unknown connector', { connector_name: 'no_such_exchange' }, 'NOT_FOUND'),
  c('connectors_get_trading_rules', 'limit of the wrong type', { connector_name: 'sim', limit: 'many' }, 'VALIDATION_FAILED'),

  c('connectors_list_markets', 'sim', { connector_name: 'sim' }, 'ok'),
  c('connectors_list_markets', 'sim_perpetual searched', { connector_name: 'sim_perpetual', search: 'eth' }, 'ok'),
  c('connectors_list_markets', 'one per page', { connector_name: 'sim', limit: 1 }, 'ok'),
  c('connectors_list_markets', 'unknown connector', { connector_name: 'no_such_exchange' }, 'NOT_FOUND'),
  c('connectors_list_markets', 'search too long', { connector_name: 'sim', search: 'x'.repeat(21) }, 'VALIDATION_FAILED'),
  c('connectors_list_markets', 'unknown key', { connector_name: 'sim', zz_unknown: 1 }, 'VALIDATION_FAILED'),

  c('accounts_list_accounts', 'all', {}, 'ok'),
  c('accounts_list_accounts', 'one per page', { limit: 1 }, 'ok'),
  c('accounts_list_accounts', 'limit of the wrong type', { limit: 'abc' }, 'VALIDATION_FAILED'),
  c('accounts_list_accounts', 'unknown key', { zz_unknown: 1 }, 'VALIDATION_FAILED'),

  c('accounts_get_balances', 'master_account', { account_name: 'master_account' }, 'ok'),
  c('accounts_get_balances', 'master_account on sim', { account_name: 'master_account', connector_name: 'sim' }, 'ok'),
  c('accounts_get_balances', 'a connector the account lacks', { account_name: 'master_account', connector_name: 'binance' }, 'NOT_FOUND'),
  c('accounts_get_balances', 'unknown account', { account_name: 'no_such_account' }, 'NOT_FOUND'),
  c('accounts_get_balances', 'malformed account name', { account_name: 'bad name!' }, 'VALIDATION_FAILED'),
  c('accounts_get_balances', 'unknown key', { account_name: 'master_account', zz_unknown: true }, 'VALIDATION_FAILED'),

  c('market_data_get_ticker', 'sim BTC-USDT', { connector_name: 'sim', trading_pair: 'BTC-USDT' }, 'ok'),
  c('market_data_get_ticker', 'sim_perpetual ETH-USDT', { connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT' }, 'ok'),
  c('market_data_get_ticker', 'unlisted pair', { connector_name: 'sim', trading_pair: 'DOGE-USDT' }, 'NOT_FOUND'),
  c('market_data_get_ticker', 'malformed pair', { connector_name: 'sim', trading_pair: 'btc_usdt' }, 'VALIDATION_FAILED'),
  c('market_data_get_order_book', 'sim depth 5', { connector_name: 'sim', trading_pair: 'SOL-USDT', depth: 5 }, 'ok'),
  c('market_data_get_order_book', 'depth out of range', { connector_name: 'sim', trading_pair: 'SOL-USDT', depth: 500 }, 'VALIDATION_FAILED'),
  c('market_data_get_candles', 'latest hours', { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1h', limit: 5 }, 'ok'),
  c('market_data_get_candles', 'a past range', { connector_name: 'sim', trading_pair: 'ETH-BTC', interval: '15m', start_time: '2024-02-29T00:00:00Z', limit: 10 }, 'ok'),
  c('market_data_get_candles', 'bad interval', { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '2w' }, 'VALIDATION_FAILED'),
  c('market_data_get_trades', 'sim', { connector_name: 'sim', trading_pair: 'BTC-USDT', limit: 20 }, 'ok'),
  c('market_data_get_trades', 'unknown connector', { connector_name: 'no_such_exchange', trading_pair: 'BTC-USDT' }, 'NOT_FOUND'),

  c('trading_place_order', 'a limit buy 50% below the ticker rests', (ctx) => restingBuy(ctx), 'ok'),
  c('trading_place_order', 'a limit_maker sell 50% above the ticker rests', async (ctx) => {
    const t = await ctx.ticker('sim', 'BTC-USDT');
    return { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'limit_maker', amount: '0.001', price: cents(t.ask * 1.5), account_name: 'master_account' };
  }, 'ok'),
  c('trading_place_order', 'a perpetual limit buy with leverage rests', async (ctx) => {
    const t = await ctx.ticker('sim_perpetual', 'SOL-USDT');
    return { connector_name: 'sim_perpetual', trading_pair: 'SOL-USDT', side: 'buy', order_type: 'limit', amount: 0.5, price: Number(cents(t.bid * 0.5)), leverage: 3 };
  }, 'ok'),
  c('trading_place_order', 'another leverage than the open position', { connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT', side: 'buy', order_type: 'market', amount: '0.01', leverage: 3 }, 'VALIDATION_FAILED'),
  c('trading_place_order', 'a small market buy fills against the pinned book', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.0002' }, 'ok'),
  c('trading_place_order', 'a market order with a price', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', price: '100' }, 'VALIDATION_FAILED'),
  c('trading_place_order', 'a limit order without a price', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'limit', amount: '0.001' }, 'VALIDATION_FAILED'),
  c('trading_place_order', 'leverage on a spot connector', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', leverage: 2 }, 'VALIDATION_FAILED'),
  c('trading_place_order', 'an amount that rounds to 0 at the step', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.000001' }, 'VALIDATION_FAILED'),
  c('trading_place_order', 'a limit buy costing more than the USDT balance', (ctx) => restingBuy(ctx, { amount: '1' }), 'UPSTREAM_REJECTED'),
  c('trading_place_order', 'an unknown account', { account_name: 'no_such_account', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, 'NOT_FOUND'),
  c('trading_place_order', 'a connector the account lacks', { connector_name: 'binance_paper_trade', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001' }, 'PRECONDITION_FAILED'),

  c('trading_list_orders', 'active orders', {}, 'ok'),
  c('trading_list_orders', 'all orders, a small page', { status: 'all', limit: 3 }, 'ok'),
  c('trading_list_orders', 'rejected orders of one account and connector', { status: 'rejected', account_name: 'master_account', connector_name: 'sim' }, 'ok'),
  c('trading_list_orders', 'unknown status', { status: 'bogus' }, 'VALIDATION_FAILED'),
  c('trading_list_orders', 'a cursor that is not one', { cursor: 'garbage' }, 'VALIDATION_FAILED'),
  c('trading_list_orders', 'limit out of range', { limit: 0 }, 'VALIDATION_FAILED'),

  c('trading_get_order', 'a resting order by client_order_id', { order_id: 'parity-resting' }, 'ok'),
  c('trading_get_order', 'a filled order by order_id, with its fills', async (ctx) => ({ order_id: (await ctx.s.call('GET', '/trading/orders/parity-filled')).body.order.order_id }), 'ok'),
  c('trading_get_order', 'an unknown order', { order_id: 'ord_missing' }, 'NOT_FOUND'),
  c('trading_get_order', 'an oversized id', { order_id: 'x'.repeat(81) }, 'VALIDATION_FAILED'),

  c('trading_cancel_order', 'a resting order by order_id', async (ctx) => ({ order_id: (await placeVia(ctx, await restingBuy(ctx))).order_id }), 'ok', true),
  c('trading_cancel_order', 'a resting order by client_order_id and account', async (ctx) => {
    const o = await placeVia(ctx, await restingBuy(ctx, { client_order_id: `parity-cancel-${ctx.unique()}` }));
    return { order_id: o.client_order_id, account_name: 'master_account' };
  }, 'ok', true),
  c('trading_cancel_order', 'a filled order', { order_id: 'parity-filled' }, 'CONFLICT'),
  c('trading_cancel_order', 'an unknown order', { order_id: 'ord_missing' }, 'NOT_FOUND'),
  c('trading_cancel_order', 'a malformed account name', { order_id: 'parity-resting', account_name: 'bad name!' }, 'VALIDATION_FAILED'),

  c('trading_list_positions', 'all', {}, 'ok'),
  c('trading_list_positions', 'one connector and pair', { connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT' }, 'ok'),
  c('trading_list_positions', 'malformed pair', { trading_pair: 'eth-usdt' }, 'VALIDATION_FAILED'),
  c('trading_list_positions', 'unknown key', { zz_unknown: 1 }, 'VALIDATION_FAILED'),

  c('trading_list_fills', 'all', {}, 'ok'),
  c('trading_list_fills', 'one order', async (ctx) => ({ order_id: (await ctx.s.call('GET', '/trading/orders/parity-filled')).body.order.order_id }), 'ok'),
  c('trading_list_fills', 'one connector, a small page', { connector_name: 'sim', limit: 2 }, 'ok'),
  c('trading_list_fills', 'a cursor that is not one', { cursor: 'abc' }, 'VALIDATION_FAILED'),
  c('trading_list_fills', 'limit out of range', { limit: 1001 }, 'VALIDATION_FAILED'),

  c('trading_close_position', 'a leveraged short', async (ctx) => {
    await placeVia(ctx, { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', side: 'sell', order_type: 'market', amount: '0.01', leverage: 5 });
    return { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' };
  }, 'ok', true),
  c('trading_close_position', 'no open position', { connector_name: 'sim_perpetual', trading_pair: 'SOL-USDT' }, 'NOT_FOUND'),
  c('trading_close_position', 'a negative amount', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', amount: '-1' }, 'VALIDATION_FAILED'),
  c('trading_close_position', 'an unknown account', { account_name: 'no_such_account', connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT' }, 'NOT_FOUND'),

  c('trading_preview_order', 'a resting limit buy', restingBuy, 'ok'),
  c('trading_preview_order', 'a market order with a price', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', price: '1' }, 'VALIDATION_FAILED'),
  c('trading_preview_order', 'a quote-size field', { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.001', cost: '100' }, 'VALIDATION_FAILED'),
  c('trading_preview_order', 'an unknown pair', { connector_name: 'sim', trading_pair: 'NOPE-USDT', side: 'buy', order_type: 'market', amount: '1' }, 'NOT_FOUND'),
  c('trading_set_leverage', 'SOL on the sim perpetual', async (ctx) => {
    await ctx.s.call('POST', '/trading/leverage', { connector_name: 'sim_perpetual', trading_pair: 'SOL-USDT', leverage: 1 });
    return { connector_name: 'sim_perpetual', trading_pair: 'SOL-USDT', leverage: 4 };
  }, 'ok', true),
  c('trading_set_leverage', 'a spot connector', { connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 2 }, 'VALIDATION_FAILED'),
  c('trading_set_leverage', 'leverage 0', { connector_name: 'sim_perpetual', trading_pair: 'BTC-USDT', leverage: 0 }, 'VALIDATION_FAILED'),

  c('safety_get_status', 'all accounts', {}, 'ok'),
  c('safety_get_status', 'one account', { account_name: 'master_account' }, 'ok'),
  c('safety_get_status', 'an unknown account', { account_name: 'no_such_account' }, 'NOT_FOUND'),
  c('safety_set_kill_switch', 'a throwaway account', async (ctx) => {
    await ctx.s.call('POST', '/accounts', { account_name: 'parity_stopped' });
    await ctx.s.call('POST', '/safety/kill-switch/clear', { account_name: 'parity_stopped' });
    return { account_name: 'parity_stopped', reason: 'parity check' };
  }, 'ok', true),
  c('safety_set_kill_switch', 'no reason', { account_name: 'master_account' }, 'VALIDATION_FAILED'),
  c('safety_set_kill_switch', 'an unknown account', { account_name: 'no_such_account', reason: 'x' }, 'NOT_FOUND'),
  c('audit_search_events', 'one command', { command: 'connectors_get_connector', limit: 3 }, 'ok'),
  c('audit_search_events', 'a malformed outcome', { outcome: 'ok!' }, 'VALIDATION_FAILED'),

  c('portfolio_get_balances', 'everything', {}, 'ok'),
  c('portfolio_get_balances', 'one account and connector', { account_names: 'master_account', connector_names: ['sim'], quote: 'USDT' }, 'ok'),
  c('portfolio_get_balances', 'lowercase quote', { quote: 'usdt' }, 'VALIDATION_FAILED'),
  c('portfolio_get_distribution', 'everything', {}, 'ok'),
  c('portfolio_get_distribution', 'a malformed account name', { account_names: 'bad name!' }, 'VALIDATION_FAILED'),
  c('portfolio_get_history', 'hourly', { interval: '1h' }, 'ok'),
  c('portfolio_get_history', 'unknown interval', { interval: '2m' }, 'VALIDATION_FAILED'),
  c('portfolio_get_performance', 'a day', { window: '24h' }, 'ok'),
  c('portfolio_get_performance', 'unknown window', { window: '1y' }, 'VALIDATION_FAILED'),
  c('approvals_list_approvals', 'pending ones', { status: 'pending' }, 'ok'),
  c('approvals_list_approvals', 'an unknown status', { status: 'maybe' }, 'VALIDATION_FAILED'),
  c('approvals_get_approval', 'a parked order', async (ctx) => {
    // A trader's order on an account that wants a person's approval for every order is parked.
    await ctx.s.call('POST', '/accounts', { account_name: 'parity_approvals', connectors: [{ connector_name: 'sim' }] });
    await ctx.s.call('PUT', '/accounts/parity_approvals/policy', { confirm_above_notional: '0', confirmation: 'human' });
    await ctx.s.call('POST', '/users', { username: 'parity_trader', password: 'parity-trader-password', role: 'trader' });
    const parked = await ctx.s.call('POST', '/trading/orders', await restingBuy(ctx, { account_name: 'parity_approvals' }), basicHeader('parity_trader', 'parity-trader-password'));
    expect(parked.body.error?.code, JSON.stringify(parked.body)).toBe('CONFIRMATION_REQUIRED');
    return { approval_id: parked.body.error.details.approval_id };
  }, 'ok'),
  c('approvals_get_approval', 'an unknown approval', { approval_id: 'apr_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('approvals_get_approval', 'a malformed id', { approval_id: 'nope' }, 'VALIDATION_FAILED'),

  c('jobs_get_job', 'a finished backfill', async (ctx) => ({ job_id: await finishedBackfill(ctx) }), 'ok'),
  c('jobs_get_job', 'an unknown job', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('jobs_get_job', 'a malformed id', { job_id: 'job_1' }, 'VALIDATION_FAILED'),
  c('jobs_list_jobs', 'finished backfills', { kind: 'candle_backfill', status: 'succeeded' }, 'ok'),
  c('jobs_list_jobs', 'an unknown status', { status: 'done' }, 'VALIDATION_FAILED'),
  c('jobs_cancel_job', 'a long backfill', async (ctx) => {
    const r = await ctx.s.call('POST', '/market-data/candles/backfill', { ...SMALL_BACKFILL, interval: '1m', start_time: '2022-01-01T00:00:00Z', end_time: '2023-06-01T00:00:00Z' });
    expect(r.status, r.text).toBe(202);
    return { job_id: r.body.job.job_id };
  }, 'ok', true),
  c('jobs_cancel_job', 'a job that already ended', async (ctx) => ({ job_id: await finishedBackfill(ctx) }), 'CONFLICT'),
  c('jobs_cancel_job', 'an unknown job', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('jobs_start_candle_backfill', 'a day of hourly candles', SMALL_BACKFILL, 'ok'),
  c('backtesting_run_backtest', 'a day of bollinger_v1 on sim', SMALL_BACKTEST, 'ok'),
  c('backtesting_run_backtest', 'an unknown controller', { ...SMALL_BACKTEST, controller: { name: 'nope_v1', config: {} } }, 'NOT_FOUND'),
  c('backtesting_run_backtest', 'a bad controller config', { ...SMALL_BACKTEST, controller: { name: 'bollinger_v1', config: { bb_length: 0 } } }, 'VALIDATION_FAILED'),
  c('backtesting_get_backtest', 'a finished backtest', async (ctx) => ({ job_id: await finishedBacktest(ctx) }), 'ok'),
  c('backtesting_get_backtest', 'an unknown backtest', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('backtesting_get_backtest', 'a backfill job', async (ctx) => ({ job_id: await finishedBackfill(ctx) }), 'NOT_FOUND'),
  c('backtesting_get_backtest_metrics', 'a finished backtest', async (ctx) => ({ job_id: await finishedBacktest(ctx) }), 'ok'),
  c('backtesting_get_backtest_metrics', 'an unknown backtest', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('backtesting_list_backtests', 'finished ones', { status: 'succeeded' }, 'ok'),
  c('backtesting_list_backtests', 'an unknown status', { status: 'done' }, 'VALIDATION_FAILED'),
  c('backtesting_delete_backtest', 'a finished backtest', async (ctx) => ({ job_id: await finishedBacktest(ctx) }), 'ok', true),
  c('backtesting_delete_backtest', 'an unknown backtest', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('backtesting_run_optimization', 'four configs of bollinger_v1 on sim', SMALL_OPTIMIZATION, 'ok'),
  c('backtesting_run_optimization', 'a point the controller refuses', { ...SMALL_OPTIMIZATION, space: { bb_length: { values: [1, 20] } } }, 'VALIDATION_FAILED'),
  c('backtesting_run_optimization', 'an unknown controller', { ...SMALL_OPTIMIZATION, backtest: { ...SMALL_OPTIMIZATION.backtest, controller: { name: 'nope_v1', config: {} } } }, 'NOT_FOUND'),
  c('backtesting_get_optimization', 'a finished optimization', async (ctx) => ({ job_id: await finishedOptimization(ctx) }), 'ok'),
  c('backtesting_get_optimization', 'a backtest job', async (ctx) => ({ job_id: await finishedBacktest(ctx) }), 'NOT_FOUND'),
  c('backtesting_list_optimizations', 'finished ones', { status: 'succeeded' }, 'ok'),
  c('backtesting_list_optimizations', 'an unknown status', { status: 'done' }, 'VALIDATION_FAILED'),
  c('backtesting_delete_optimization', 'a finished optimization', async (ctx) => ({ job_id: await finishedOptimization(ctx) }), 'ok', true),
  c('backtesting_delete_optimization', 'an unknown optimization', { job_id: 'job_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('backtesting_create_optimized_config', 'the best of a finished optimization', async (ctx) => ({ job_id: await finishedOptimization(ctx), name: `opt_${Math.random().toString(36).slice(2, 10)}` }), 'ok', true),
  c('backtesting_create_optimized_config', 'an unknown optimization', { job_id: 'job_AAAAAAAAAAAAAAAA', name: 'best' }, 'NOT_FOUND'),
  c('jobs_start_candle_backfill', 'an unlisted pair', { ...SMALL_BACKFILL, trading_pair: 'DOGE-USDT' }, 'NOT_FOUND'),
  c('jobs_start_candle_backfill', 'start after end', { ...SMALL_BACKFILL, start_time: '2024-03-03T00:00:00Z' }, 'VALIDATION_FAILED'),

  c('strategies_list_controllers', 'all', {}, 'ok'),
  c('strategies_list_controllers', 'market makers, one per page', { type: 'market_making', limit: 1 }, 'ok'),
  c('strategies_list_controllers', 'unknown type', { type: 'scalping' }, 'VALIDATION_FAILED'),
  c('strategies_get_controller', 'bollinger_v1', { controller_name: 'bollinger_v1' }, 'ok'),
  c('strategies_get_controller', 'an unknown controller', { controller_name: 'no_such_v1' }, 'NOT_FOUND'),
  c('strategies_validate_controller_config', 'a valid config', { controller_name: 'bollinger_v1', config: { ...BOLLINGER, bb_length: 50 } }, 'ok'),
  c('strategies_validate_controller_config', 'a bad config is an answer', { controller_name: 'bollinger_v1', config: { ...BOLLINGER, stop_loss: 'lots', zz_unknown: 1 } }, 'ok'),
  c('strategies_validate_controller_config', 'an unknown controller', { controller_name: 'no_such_v1', config: {} }, 'NOT_FOUND'),
  c('strategies_validate_controller_config', 'config is a list', { controller_name: 'bollinger_v1', config: [1] }, 'VALIDATION_FAILED'),
  c('strategies_create_controller_config', 'a bollinger_v1 config', async (ctx) => ({ controller_name: 'bollinger_v1', name: `parity_${ctx.unique()}`, config: BOLLINGER }), 'ok', true),
  c('strategies_create_controller_config', 'a bad config', { controller_name: 'bollinger_v1', name: 'parity_bad', config: { ...BOLLINGER, stop_loss: 'lots' } }, 'VALIDATION_FAILED'),
  c('strategies_create_controller_config', 'a name already taken', async (ctx) => {
    const id = await savedConfig(ctx);
    const name = (await ctx.s.call('GET', `/controllers/${id}/config`)).body.controller_config.name as string;
    return { controller_name: 'bollinger_v1', name, config: BOLLINGER };
  }, 'CONFLICT'),
  c('strategies_list_controller_configs', 'all', async (ctx) => (await savedConfig(ctx), {}), 'ok'),
  c('strategies_list_controller_configs', 'a cursor this server did not issue', { cursor: 'garbage' }, 'VALIDATION_FAILED'),
  c('strategies_get_controller_config', 'a saved config', async (ctx) => ({ config_id: await savedConfig(ctx) }), 'ok'),
  c('strategies_get_controller_config', 'a version it does not have', async (ctx) => ({ config_id: await savedConfig(ctx), version: 2 }), 'NOT_FOUND'),
  c('strategies_update_controller_config', 'a new version', async (ctx) => ({ config_id: await savedConfig(ctx), config: { ...BOLLINGER, bb_length: 60 }, expected_version: 1 }), 'ok', true),
  c('strategies_update_controller_config', 'a stale expected_version', async (ctx) => ({ config_id: await savedConfig(ctx), config: BOLLINGER, expected_version: 3 }), 'CONFLICT'),
  c('strategies_update_controller_config', 'a bad config', async (ctx) => ({ config_id: await savedConfig(ctx), config: { ...BOLLINGER, bb_length: -1 } }), 'VALIDATION_FAILED'),
  c('strategies_delete_controller_config', 'a saved config', async (ctx) => ({ config_id: await savedConfig(ctx) }), 'ok', true),
  c('strategies_delete_controller_config', 'an unknown config', { config_id: 'cfg_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('strategies_list_config_versions', 'a saved config', async (ctx) => ({ config_id: await savedConfig(ctx) }), 'ok'),
  c('strategies_list_config_versions', 'an unknown config', { config_id: 'cfg_AAAAAAAAAAAAAAAA' }, 'NOT_FOUND'),
  c('strategies_list_scripts', 'all', {}, 'ok'),
  c('strategies_list_scripts', 'limit out of range', { limit: 0 }, 'VALIDATION_FAILED'),
  c('strategies_get_script', 'twap_buyer_v1', { script_name: 'twap_buyer_v1' }, 'ok'),
  c('strategies_get_script', 'an unknown script', { script_name: 'no_such_v1' }, 'NOT_FOUND'),
  c('strategies_validate_script_config', 'a TWAP of 1000 USDT over an hour', { script_name: 'twap_buyer_v1', config: { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: '1000', duration: 3600, interval: 600 } }, 'ok'),
  c('strategies_validate_script_config', 'an unknown script', { script_name: 'no_such_v1', config: {} }, 'NOT_FOUND'),
  c('executors_create_executor', 'a position executor with wide barriers', { executor_config: WIDE_POSITION }, 'ok', true),
  c('executors_create_executor', 'a pair the connector does not list', { executor_config: { ...WIDE_POSITION, trading_pair: 'NOPE-USDT' } }, 'VALIDATION_FAILED'),
  c('executors_create_executor', 'a connector the account lacks', { executor_config: { ...WIDE_POSITION, connector_name: 'binance_paper_trade' } }, 'PRECONDITION_FAILED'),
  c('executors_list_executors', 'running executors', { status: 'running' }, 'ok'),
  c('executors_list_executors', 'unknown status', { status: 'done' }, 'VALIDATION_FAILED'),
  c('executors_get_summary', 'every account', {}, 'ok'),
  c('executors_get_summary', 'a malformed account', { account_name: 'bad name!' }, 'VALIDATION_FAILED'),
  c('executors_get_executor', 'a running executor with its orders', async (ctx) => ({ executor_id: await executorVia(ctx) }), 'ok'),
  c('executors_get_executor', 'an unknown executor', { executor_id: 'ex_missing' }, 'NOT_FOUND'),
  c('executors_stop_executor', 'a running executor, keeping its position', async (ctx) => ({ executor_id: await executorVia(ctx), keep_position: true }), 'ok', true),
  c('executors_stop_executor', 'an unknown executor', { executor_id: 'ex_missing' }, 'NOT_FOUND'),
  // Bots run against a recording fake of the orchestrator (installed below), with a few bots made over REST.
  c('bots_list_bots', 'every bot', {}, 'ok'),
  c('bots_list_bots', 'unknown desired state', { desired_state: 'paused' }, 'VALIDATION_FAILED'),
  c('bots_deploy_bot', 'a bollinger_v1 bot', async (ctx) => ({ bot_id: `parity-${ctx.unique()}`, account_name: 'master_account', controllers: [{ controller_name: 'bollinger_v1', config: BOLLINGER }] }), 'ok', true),
  c('bots_deploy_bot', 'an unknown controller', { bot_id: 'parity-never', account_name: 'master_account', controllers: [{ controller_name: 'no_such_ctrl', config: {} }] }, 'VALIDATION_FAILED'),
  c('bots_deploy_controllers', 'a saved bollinger_v1 config', async (ctx) => ({ controller_name: 'bollinger_v1', config_ids: [await savedConfig(ctx)], bot_id: `parity-${ctx.unique()}`, account_name: 'master_account' }), 'ok', true),
  c('bots_deploy_controllers', 'an unknown saved config', { controller_name: 'bollinger_v1', config_ids: ['cfg_AAAAAAAAAAAAAAAA'], bot_id: 'parity-never', account_name: 'master_account' }, 'NOT_FOUND'),
  c('bots_run_script', 'a TWAP script', async (ctx) => ({ script_name: 'twap_buyer_v1', config: TWAP, bot_id: `parity-${ctx.unique()}`, account_name: 'master_account' }), 'ok', true),
  c('bots_run_script', 'an unknown script', { script_name: 'no_such_v1', config: {}, bot_id: 'parity-never', account_name: 'master_account' }, 'VALIDATION_FAILED'),
  c('bots_get_status', 'a running bot', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_get_status', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_start_bot', 'a running bot (nothing changes)', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_start_bot', 'an uppercase id', { bot_id: 'Parity' }, 'VALIDATION_FAILED'),
  c('bots_stop_bot', 'a bot, leaving its orders', { bot_id: 'parity-stop', skip_order_cancellation: true }, 'ok'),
  c('bots_stop_bot', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_update_config', 'a new band length', { bot_id: 'parity-bot', controllers: [{ controller_name: 'bollinger_v1', config: { bb_length: 30 } }] }, 'ok'),
  c('bots_update_config', 'another controller', { bot_id: 'parity-bot', controllers: [{ controller_name: 'macd_bb_v1', config: {} }] }, 'VALIDATION_FAILED'),
  c('bots_get_logs', 'its newest lines', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_get_logs', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_list_fills', 'its fills', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_list_fills', 'a cursor that is not one', { bot_id: 'parity-bot', cursor: '==' }, 'VALIDATION_FAILED'),
  c('bots_get_performance', 'its performance', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_get_performance', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_list_events', 'its events', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_list_events', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_list_runs', 'its runs', { bot_id: 'parity-bot' }, 'ok'),
  c('bots_list_runs', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
  c('bots_archive_bot', 'a stopped bot', { bot_id: 'parity-archive' }, 'ok'),
  c('bots_archive_bot', 'an unknown bot', { bot_id: 'no-such-bot' }, 'NOT_FOUND'),
];

/** The sim clock is pinned so that prices do not move between the REST and the MCP call. */
const PINNED_NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 500);

/** A valid call to each REST-only command; over MCP each must be refused before it runs. */
const REST_ONLY_CALLS: Record<string, Record<string, unknown>> = {
  accounts_create_account: { account_name: 'made_over_mcp' },
  accounts_update_account: { account_name: 'master_account', remove_connectors: ['sim'] },
  accounts_delete_account: { account_name: 'master_account' },
  accounts_set_paper_balances: { account_name: 'master_account', connector_name: 'sim', balances: { USDT: '1' } },
  users_list_users: {},
  users_create_user: { username: 'made_over_mcp', password: 'a-long-password', role: 'admin' },
  users_update_user: { username: 'admin', role: 'admin' },
  users_delete_user: { username: 'admin' },
  safety_clear_kill_switch: {},
  safety_update_policy: { account_name: 'master_account', mode: 'disabled' },
  approvals_approve_order: { approval_id: 'apr_AAAAAAAAAAAAAAAA' },
  approvals_reject_order: { approval_id: 'apr_AAAAAAAAAAAAAAAA' },
  docker_get_running: {},
  docker_list_images: {},
  docker_list_active_containers: {},
  docker_list_exited_containers: {},
  docker_pull_image: { image_name: 'hummingbot/hummingbot:latest' },
  docker_start_container: { name: 'tradedesk-bot-parity' },
  docker_stop_container: { name: 'tradedesk-bot-parity' },
  docker_remove_container: { name: 'tradedesk-bot-parity' },
  docker_get_allowed_images: {},
  docker_set_allowed_images: { patterns: [] },
};

const byName = new Map(allCommands.map((cmd) => [cmd.name, cmd]));
const bothChannels = allCommands.filter((cmd) => channelsOf(cmd).includes('rest') && channelsOf(cmd).includes('mcp'));
/** What the MCP face does to a REST route in an error's text (every toolset is served here). */
const routesAsTools = routesAsToolsIn(allCommands.filter((cmd) => channelsOf(cmd).includes('mcp')));
const restOnly = allCommands.filter((cmd) => !channelsOf(cmd).includes('mcp'));

/** The REST request for a command input: path parameters in the path, the rest in the query (GET, DELETE) or the body. */
function restRequest(cmd: AnyCommand, input: Record<string, unknown>): { method: string; path: string; body?: unknown } {
  const params = pathParams(cmd.http.path);
  const path = cmd.http.path.replace(/\{([a-z_][a-z0-9_]*)\}/g, (_, p: string) => encodeURIComponent(String(input[p])));
  const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !params.includes(k)));
  if (cmd.http.method !== 'GET' && cmd.http.method !== 'DELETE') return { method: cmd.http.method, path, body: rest };
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(rest)) {
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  }
  const q = qs.toString();
  return { method: cmd.http.method, path: q ? `${path}?${q}` : path };
}

type Answer = { ok: true; output: unknown } | { ok: false; code: string; error: Record<string, unknown> };

function withoutRequestId(error: Record<string, unknown>): Record<string, unknown> {
  const { request_id: _ignored, ...rest } = error;
  return rest;
}

/**
 * A query string carries only text, so `limit: true` reaches REST as "true": the code and the failing
 * fields must agree, the wording of zod's message may not. Inputs made only of strings reach both faces
 * identically, and then the whole error must be equal.
 */
function wireIdentical(input: Record<string, unknown>): boolean {
  return Object.values(input).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')));
}

const ORDER_STABLE = [
  'account_name',
  'connector_name',
  'trading_pair',
  'side',
  'order_type',
  'amount',
  'price',
  'position_action',
  'leverage',
  'status',
  'filled_amount',
  'average_fill_price',
  'fee_paid',
  'fee_asset',
  'error_message',
] as const;
const FILL_STABLE = ['account_name', 'connector_name', 'trading_pair', 'side', 'price', 'amount', 'fee', 'fee_asset', 'is_maker', 'realized_pnl'] as const;

const pick = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));

/**
 * The part of a state-changing command's output that two calls must share: the outcome and the order's
 * and fills' stable fields, not their ids and times. The sim clock is pinned, so fill prices agree too.
 */
function stableView(output: unknown): Record<string, unknown> {
  const o = output as { order: Record<string, unknown>; fills?: Array<Record<string, unknown>>; replayed?: boolean; book_source?: string | null };
  return {
    keys: Object.keys(o).sort(),
    order: pick(o.order, ORDER_STABLE),
    fills: o.fills?.map((f) => pick(f, FILL_STABLE)),
    replayed: o.replayed,
    book_source: o.book_source,
  };
}

function comparable(error: Record<string, unknown>): Record<string, unknown> {
  const issues = ((error.details as { issues?: Array<{ path: string }> } | undefined)?.issues ?? []).map((i) => i.path);
  return { code: error.code, retryable: error.retryable, hint: error.hint, issue_paths: issues };
}

async function viaRest(s: TestServer, cmd: AnyCommand, input: Record<string, unknown>): Promise<Answer> {
  const req = restRequest(cmd, input);
  const r = await s.call(req.method, req.path, req.body);
  if (r.status >= 200 && r.status < 300) {
    expect(r.status).toBe(cmd.http.successStatus ?? 200);
    return { ok: true, output: r.body };
  }
  expect(r.body?.error, `REST ${req.method} ${req.path} answered ${r.status} without an error body`).toBeDefined();
  return { ok: false, code: r.body.error.code, error: withoutRequestId(r.body.error) };
}

async function viaMcp(client: Client, name: string, input: Record<string, unknown>): Promise<Answer> {
  const result = (await client.callTool({ name, arguments: input })) as CallToolResult;
  const first = result.content[0];
  expect(first?.type).toBe('text');
  const text = first?.type === 'text' ? first.text : '';
  if (result.isError) {
    const body = JSON.parse(text) as { error: Record<string, unknown> & { code: string } };
    return { ok: false, code: body.error.code, error: withoutRequestId(body.error) };
  }
  expect(result.structuredContent, `${name} returned no structuredContent`).toBeDefined();
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return { ok: true, output: result.structuredContent };
}

describe('the parity case table', () => {
  it('covers every command served on both channels with a success and a failure', () => {
    for (const cmd of bothChannels) {
      const mine = CASES.filter((x) => x.tool === cmd.name);
      expect(mine.some((x) => x.expected === 'ok'), `${cmd.name} has no success case`).toBe(true);
      expect(mine.some((x) => x.expected !== 'ok'), `${cmd.name} has no failure case`).toBe(true);
    }
    for (const x of CASES) expect(bothChannels.map((cmd) => cmd.name)).toContain(x.tool);
  });

  it('has a refused call for every REST-only command', () => {
    expect(Object.keys(REST_ONLY_CALLS).sort()).toEqual(restOnly.map((cmd) => cmd.name).sort());
  });
});

describe.each(drivers())('REST/MCP parity on %s', (driver) => {
  let s: TestServer;
  let client: Client;
  let ctx: CaseCtx;
  let seq = 0;

  beforeAll(async () => {
    // Every toolset, so that MCP serves every command REST does (jobs is not a default toolset).
    const clock = new ManualClock(PINNED_NOW);
    s = await testServer(driver, { toolsets: 'all' }, { clock });
    // The bot commands' parity is about the faces, not the orchestrator: a recording fake stands in for it.
    const bots = new FakeBotControl(clock);
    s.services.bots = bots;
    for (const bot_id of ['parity-bot', 'parity-stop', 'parity-archive']) {
      const r = await s.call('POST', '/bot-orchestration/deploy', { bot_id, account_name: 'master_account', controllers: [{ controller_name: 'bollinger_v1', config: BOLLINGER }] });
      expect(r.status, r.text).toBe(201);
    }
    const at = new Date(PINNED_NOW - 60_000);
    const reports = bots.reportsOf('parity-bot');
    reports.runs.push({ id: 1, botId: 'parity-bot', startedAt: at, stoppedAt: null, status: 'running', exitCode: null, finalStatus: null });
    reports.fills.push({ botId: 'parity-bot', fillId: 'f1', clientOrderId: 'o1', tradingPair: 'BTC-USDT', side: 'buy', price: '50000', amount: '0.001', fee: '0.05', feeAsset: 'USDT', at });
    reports.performance.push({ id: 1, botId: 'parity-bot', controllerId: 'c1', at, realizedPnlQuote: '1.5', unrealizedPnlQuote: '0', unrealizedPnlPct: '0', realizedPnlPct: '0.01', globalPnlQuote: '1.5', globalPnlPct: '0.01', volumeTraded: '50', raw: { volume_traded: 50 } });
    reports.events.push({ id: 1, botId: 'parity-bot', eventId: 'e1', type: 'OrderFilledEvent', at, data: { amount: 0.001 } });
    client = new Client({ name: 'contract-parity', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: ADMIN_AUTH } } }));
    // Listing first makes the client check every structuredContent against the advertised outputSchema.
    await client.listTools();
    ctx = {
      s,
      unique: () => `${++seq}`,
      ticker: async (connector, pair) => {
        const r = await s.call('GET', `/market-data/ticker/${pair}?connector_name=${connector}`);
        expect(r.status).toBe(200);
        return r.body;
      },
    };
    // Orders and a position the read cases find: a resting limit buy, a filled market buy, an ETH long.
    await placeVia(ctx, await restingBuy(ctx, { client_order_id: 'parity-resting' }));
    const filled = await placeVia(ctx, { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', order_type: 'market', amount: '0.0005', client_order_id: 'parity-filled' });
    expect(filled.status).toBe('filled');
    await placeVia(ctx, { connector_name: 'sim_perpetual', trading_pair: 'ETH-USDT', side: 'buy', order_type: 'market', amount: '0.05', leverage: 2 });
  });
  afterAll(async () => {
    await client?.close();
    await s?.stop();
  });

  it('MCP lists exactly the commands served on both channels', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(bothChannels.map((cmd) => cmd.name));
  });

  it.each(CASES)('$label: same answer on both faces', async ({ tool, input, expected, perFace }) => {
    const cmd = byName.get(tool)!;
    const build = async () => (typeof input === 'function' ? input(ctx) : input);
    const restInput = await build();
    // Nothing else runs between the two calls, so a read must answer the same both times.
    let rest = await viaRest(s, cmd, restInput);
    const mcpInput = perFace ? await build() : restInput;
    const mcp = await viaMcp(client, tool, mcpInput);
    // A page asked for without a limit is smaller over MCP (src/core/pagination.ts): compare it with
    // the REST page of that size.
    if (rest.ok && mcp.ok && 'pagination' in (mcp.output as object) && restInput.limit === undefined) {
      expect((rest.output as { pagination: { limit: number } }).pagination.limit).toBe(100);
      expect((mcp.output as { pagination: { limit: number } }).pagination.limit).toBe(MCP_PAGE_LIMIT);
      rest = await viaRest(s, cmd, { ...restInput, limit: MCP_PAGE_LIMIT });
    }
    expect(rest.ok ? 'ok' : rest.code, `REST outcome: ${JSON.stringify(rest)}`).toBe(expected);
    expect(mcp.ok ? 'ok' : mcp.code, `MCP outcome: ${JSON.stringify(mcp)}`).toBe(expected);
    if (rest.ok && mcp.ok) {
      if (STATEFUL.has(tool)) {
        expect(stableView(mcp.output)).toEqual(stableView(rest.output));
        // Two calls, two orders: a write is never answered from the first one.
        const ids = [rest.output, mcp.output].map((o) => (o as { order: { order_id: string } }).order.order_id);
        expect(ids[0]).not.toBe(ids[1]);
        const view = stableView(rest.output) as { order: { status: string; filled_amount: number }; fills?: unknown[] };
        if (view.fills) expect(view.fills.length > 0, 'a fill for every filled order').toBe(view.order.filled_amount > 0);
      } else if (VOLATILE[tool]) expect(VOLATILE[tool](mcp.output as Record<string, unknown>)).toEqual(VOLATILE[tool](rest.output as Record<string, unknown>));
      else expect(mcp.output).toEqual(rest.output);
    }
    if (!rest.ok && !mcp.ok) {
      // The one difference: over MCP a REST route in the message or hint is named as its tool (src/mcp/rest-hints.ts).
      const restError = { ...rest.error, message: routesAsTools(rest.error.message as string), ...(typeof rest.error.hint === 'string' ? { hint: routesAsTools(rest.error.hint) } : {}) };
      if (wireIdentical(restInput) && JSON.stringify(restInput) === JSON.stringify(mcpInput)) expect(mcp.error).toEqual(restError);
      else expect(comparable(mcp.error)).toEqual(comparable(restError));
    }
  });

  it.each(Object.entries(REST_ONLY_CALLS))('%s is refused over MCP with POLICY_DENIED and changes nothing', async (name, input) => {
    const before = await s.call('GET', '/accounts');
    const mcp = await viaMcp(client, name, input);
    expect(mcp.ok).toBe(false);
    expect(mcp.ok ? 'ok' : mcp.code).toBe('POLICY_DENIED');
    const after = await s.call('GET', '/accounts');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
  });

  it('the refusal is about the channel, not the principal: the same admin may create an account over REST', async () => {
    const r = await s.call('POST', '/accounts', { account_name: 'made_over_rest' });
    expect(r.status).toBe(201);
    expect(r.body.account_name).toBe('made_over_rest');
    const mcp = await viaMcp(client, 'accounts_create_account', { account_name: 'made_over_rest_2' });
    expect(mcp.ok ? 'ok' : mcp.code).toBe('POLICY_DENIED');
  });
});
