import { AppError } from '../errors.js';
import type { Connectors } from '../exchange/connectors.js';
import { type ExchangeConnector, INTERVAL_MS } from '../exchange/types.js';
import type { BacktestMarket } from '../backtest/sim-venue.js';
import type { JobRunner } from '../jobs/types.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import type { BacktestWorkerInput } from './pool-worker.js';
import type { BacktestStore } from './backtest-store.js';
import type { BacktestTaskProgress } from './backtest-task.js';
import { type CandleReader, loadCandles } from '../backtest/candle-loader.js';
import { checkFeeds, parseConfig } from '../backtest/engine.js';
import { BacktestSpec } from '../backtest/spec.js';
import type { StoredBacktest, BacktestSummary } from '../backtest/stored-result.js';
import type { StrategyPool } from './worker-pool.js';

export const BACKTEST_KIND = 'backtest';

/** Share of a job's progress spent reading candles; the simulation takes the rest. */
const LOAD_SHARE = 0.1;

/** A controller by name, and the operator's module that defines it (null for a shipped one). */
export interface ControllerSource {
  controller(name: string): { definition: ControllerDefinition; moduleUrl: string | null } | undefined;
}

export interface BacktestJobDeps {
  connectors: Pick<Connectors, 'get'>;
  candles: CandleReader;
  pool: Pick<StrategyPool, 'run'>;
  store: Pick<BacktestStore, 'save'>;
  controllers: ControllerSource;
}

export type BacktestJobResult = BacktestSummary & { result_id: string };

/** A controller by name and its config parsed, or the field-path error a caller sees before any job starts. */
export function resolveBacktest(controllers: ControllerSource, spec: BacktestSpec): { definition: ControllerDefinition; moduleUrl: string | null; config: unknown } {
  const found = controllers.controller(spec.controller.name);
  if (!found) {
    throw new AppError('NOT_FOUND', `No controller named ${spec.controller.name}.`, {
      hint: 'GET /controllers lists the controllers this server has.',
      details: { issues: [{ path: 'controller.name', message: 'unknown controller' }] },
    });
  }
  const config = parseConfig(found.definition, spec);
  checkFeeds(found.definition, config, spec);
  return { ...found, config };
}

/**
 * Candles of the resolution before the start that the controller's first decision needs: the most
 * history any of its candle feeds asks for, and its stated warm-up (in bars of its main interval).
 */
export function warmupCandles(definition: ControllerDefinition, config: unknown, spec: BacktestSpec): number {
  const step = INTERVAL_MS[spec.resolution];
  const feeds = definition.data(config).candles;
  const inSteps = (bars: number, interval: keyof typeof INTERVAL_MS) => Math.ceil((bars * INTERVAL_MS[interval]) / step);
  const main = feeds[0]?.interval ?? spec.resolution;
  return Math.max(inSteps(definition.warmupBars(config), main), ...feeds.map((f) => inSteps(f.bars, f.interval)));
}

/**
 * Runs one backtest job: reads the candles (sim computes any range; an exchange's come through the
 * candle cache), moves them to a pool worker that simulates, and stores the full result before the job
 * ends with its summary. The event loop stays free: only the page reads and the final write run here.
 */
export function backtestRunner(deps: BacktestJobDeps): JobRunner<unknown, BacktestJobResult> {
  return async (input, ctx) => {
    const spec = BacktestSpec.parse(input);
    const { definition, moduleUrl, config } = resolveBacktest(deps.controllers, spec);
    const market = await marketOf(deps.connectors, spec);
    ctx.progress(0, 'reading candles');
    const loaded = await loadCandles(
      deps.candles,
      { connector: spec.connector, tradingPair: spec.trading_pair, interval: spec.resolution, start: spec.start, end: spec.end, warmupBars: warmupCandles(definition, config, spec) },
      { signal: ctx.signal, onPage: (done, total) => ctx.progress((LOAD_SHARE * done) / Math.max(total, 1), `reading candles: ${done} of ${total}`) },
    );
    const started = ctx.clock.now();
    const columns = loaded.columns;
    const task: BacktestWorkerInput = { spec, columns, market, ...(moduleUrl ? { controllerModule: moduleUrl } : {}) };
    const stored = await deps.pool.run<BacktestWorkerInput, StoredBacktest>(
      { name: 'backtest', input: task, transfer: [columns.time, columns.open, columns.high, columns.low, columns.close, columns.volume].map((a) => a.buffer as ArrayBuffer) },
      {
        signal: ctx.signal,
        onMessage: (m) => {
          const p = m as BacktestTaskProgress;
          if (p.total <= 0) return;
          const share = p.done / p.total;
          const elapsed = ctx.clock.now() - started;
          const left = share > 0 ? Math.round((elapsed * (1 - share)) / share / 1000) : null;
          ctx.progress(LOAD_SHARE + (1 - LOAD_SHARE) * share, `simulating: ${p.done} of ${p.total} candles${left === null ? '' : `, about ${left} s left`}`);
        },
      },
    );
    ctx.signal.throwIfAborted();
    await deps.store.save(ctx.jobId, spec, stored.json, stored.summary);
    ctx.progress(1, `done: ${stored.summary.candles} candles, ${stored.summary.executors} executors`);
    return { result_id: ctx.jobId, ...stored.summary };
  };
}

/**
 * The market a backtest walks. An unknown connector or an unlisted pair is the caller's field
 * (`prefix` places it: `backtest.` in an optimization), and so is a start before the connector's candle
 * history begins (sim's, 2015-01-01): a start refuses them before a job exists.
 */
export async function marketOf(connectors: Pick<Connectors, 'get'>, spec: Pick<BacktestSpec, 'connector' | 'trading_pair'> & { start?: number }, prefix = ''): Promise<BacktestMarket> {
  let connector: ExchangeConnector;
  try {
    connector = await connectors.get(spec.connector);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${prefix}connector: ${err.message}`, {
      hint: err.hint ?? 'GET /connectors lists the connectors this server has.',
      details: { issues: [{ path: `${prefix}connector`, message: 'unknown connector' }] },
    });
  }
  if (spec.start !== undefined && connector.historyStart !== undefined && spec.start < connector.historyStart) {
    // Otherwise the run would succeed on no candle at all.
    const from = new Date(connector.historyStart).toISOString();
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${prefix}start: ${spec.connector} has candles from ${from} on`, {
      hint: `Start at ${from} or later.`,
      details: { issues: [{ path: `${prefix}start`, message: `${spec.connector} has candles from ${from} on` }] },
    });
  }
  const m = (await connector.loadMarkets()).find((x) => x.trading_pair === spec.trading_pair);
  if (!m) {
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${prefix}trading_pair: ${spec.connector} does not list ${spec.trading_pair}`, {
      hint: `GET /connectors/${spec.connector}/markets lists its pairs.`,
      details: { issues: [{ path: `${prefix}trading_pair`, message: `${spec.connector} does not list it` }] },
    });
  }
  return { trading_pair: m.trading_pair, base: m.base, quote: m.quote, rules: m.rules, market_type: m.market_type };
}
