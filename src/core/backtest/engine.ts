import { Decimal } from '../decimal.js';
import { AppError } from '../errors.js';
import { INTERVAL_MS } from '../exchange/types.js';
import { RunningSum } from '../running-sum.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { configIssues } from '../strategy/config-issues.js';
import { StrategyRuntime, type ExecutorFactory } from '../strategy/runtime.js';
import type { ExecutorReport, OrderFill, OrderRequest } from '../strategy/types.js';
import { type CandleColumns, type CandleGap, gapsOf } from './candle-loader.js';
import { candlePath, PATH_POINTS, pathTimes } from './candle-path.js';
import { BacktestMarketView } from './candle-view.js';
import { EquityTrack } from './equity-track.js';
import { FillLog } from './fill-log.js';
import { type BacktestMetrics, computeMetrics, TradeTally } from './metrics.js';
import { type BacktestMarket, SimVenue } from './sim-venue.js';
import type { BacktestSpec } from './spec.js';
import { thinIndexes, thinSeries } from './thin-series.js';

/**
 * Runs one backtest, in memory, with no IO and no clock: the same spec and candles give the same
 * result, byte for byte, as JSON. Each candle of the range becomes a four-point price path
 * (candle-path.ts); at each point the sim venue fills what rests, then the strategy runtime steps (its
 * executors tick, the controller decides once a candle of its interval has closed). Between two points
 * the engine also stops at each executor's idle-band edge the price passes (a stop loss level) and at
 * each resting order's limit, so a barrier is met at its own price and an executor whose limit filled
 * on the way acts on the fill before the price moves on. It skips a point when nothing can happen at it (no resting order
 * reached, every executor idle at that price, the controller not due).
 */

export interface BacktestEnv {
  /** The controller module a spec names (the caller's registry). */
  controller(name: string): ControllerDefinition | undefined;
  createExecutor: ExecutorFactory;
  /** The traded market's assets, type (spot or perpetual) and trading rules (quantisation, minimum sizes). */
  market: BacktestMarket;
  /** The list caps and when ended executors move out of the runtime; the defaults below (tests set small ones). */
  limits?: Partial<ListLimits>;
}

export interface ListLimits {
  executors: number;
  fills: number;
  pruneAbove: number;
  pruneKeep: number;
}

export type BacktestProgress = (doneCandles: number, totalCandles: number) => void;

export interface BacktestFill {
  executor_id: string | null;
  client_order_id: string;
  side: 'buy' | 'sell';
  price: string;
  amount: string;
  fee: string;
  is_maker: boolean;
  timestamp: number;
}

export interface BacktestResult {
  controller: { name: string; config: Record<string, unknown> };
  connector: string;
  trading_pair: string;
  resolution: string;
  start: number;
  end: number;
  /** Candles of the range walked (warm-up excluded). */
  candles: number;
  /** Missing candle slots in the range: nothing is interpolated, the path jumps over them. */
  gaps: CandleGap[];
  initial_balances: { base: string; quote: string };
  final_balances: { base: string; quote: string };
  /** Present only past the list caps (LIST_LIMITS): how many the lists leave out (the metrics count them). */
  unlisted?: { executors: number; fills: number };
  executors: Array<Omit<ExecutorReport, 'positionAmount' | 'entryPrice' | 'volume' | 'fees' | 'realizedPnl' | 'unrealizedPnl' | 'netPnl' | 'netPnlPct'> & Record<string, unknown>>;
  fills: BacktestFill[];
  /**
   * Sampled at each candle close (numbers, not decimals: a plot's precision): the close time, the
   * strategy's PnL in quote marked to the close, its net base position and the close price.
   */
  series: { time: number[]; pnl: number[]; position: number[]; price: number[] };
  metrics: BacktestMetrics;
}

const PROGRESS_EVERY = 8192;
/**
 * What a result lists at most. Past these a run still counts every executor and fill in its metrics,
 * but lists no more of them: a market maker over years makes millions of executors, most never
 * filled, and each listed one is worker memory and bytes in the stored result. Past `pruneAbove`
 * executors kept one by one, ended ones move out of the runtime (the latest `pruneKeep` stay in the
 * controller's view, as in a long-running bot).
 */
export const LIST_LIMITS: ListLimits = { executors: 100_000, fills: 200_000, pruneAbove: 50_000, pruneKeep: 5_000 };
/** Interior stops per path segment at most (each one an executor's edge), and how far apart they must be. */
const MAX_EDGES_PER_SEGMENT = 8;
const EDGE_MIN_MOVE = 1e-9;

export function runBacktest(spec: BacktestSpec, candles: CandleColumns, onProgress: BacktestProgress | null, env: BacktestEnv): BacktestResult {
  const def = env.controller(spec.controller.name);
  if (!def) throw new AppError('NOT_FOUND', `No controller named ${spec.controller.name}.`);
  const config = parseConfig(def, spec);
  checkFeeds(def, config, spec);
  const needs = def.data(config);
  const stepMs = INTERVAL_MS[spec.resolution];
  const interval = needs.candles[0]?.interval ?? spec.resolution;

  const times = candles.time;
  const first = lowerBound(times, spec.start);
  const last = lowerBound(times, spec.end + 1);
  const total = last - first;
  const firstSlot = Math.ceil(spec.start / stepMs) * stepMs;
  const lastSlot = Math.floor(spec.end / stepMs) * stepMs;
  const gaps = gapsOf(times.subarray(first, last), firstSlot, lastSlot, stepMs);

  const market = new BacktestMarketView(candles, spec.connector, spec.trading_pair, spec.resolution, env.market.rules);
  const base0 = new Decimal(spec.initial_balances.base);
  const quote0 = new Decimal(spec.initial_balances.quote);
  const limits = { ...LIST_LIMITS, ...env.limits };
  // A run that lists no executor (an optimization trial) keeps none that has ended when its controller
  // reads only the active ones: each is tallied as it ends (onFinal), and nothing reads it after.
  const dropFinal = limits.executors === 0 && needs.executors === 'active';
  const fills = new FillLog();
  let unlistedFills = 0;
  // Ended executors moved out of a long run's runtime: listed (as JSON) up to the cap, counted always.
  const movedOut: Array<BacktestResult['executors'][number]> = [];
  // Every final report is tallied as it becomes final (see onFinal below), from its own decimals; the
  // reports still live at the end are tallied then.
  const trades = new TradeTally();
  let movedOutCount = 0;
  const moveOut = (r: ExecutorReport) => {
    movedOutCount++;
    if (movedOut.length < limits.executors) movedOut.push(reportJson(r));
  };
  const volume = new RunningSum();
  const fees = new RunningSum();
  let runtime: StrategyRuntime | null = null;
  const venue = new SimVenue({
    connector: spec.connector,
    market: env.market,
    makerFee: new Decimal(spec.maker_fee ?? spec.trade_cost),
    takerFee: new Decimal(spec.taker_fee ?? spec.trade_cost),
    slippageBps: spec.slippage_bps,
    balances: { base: base0, quote: quote0 },
    onFill(order: OrderRequest, f: OrderFill, notional: Decimal) {
      volume.add(notional);
      fees.add(f.fee);
      // The owner now (it is forgotten once the order is final). Only what the result lists is kept: the
      // order and the fill objects would stay alive with it to the end.
      if (fills.length < limits.fills) {
        fills.push(runtime?.ownerOf(order.clientOrderId) ?? null, order.clientOrderId, order.side === 'buy', f.price, f.amount, f.fee, f.isMaker, f.timestamp);
      } else unlistedFills++;
    },
    onUpdate(u) {
      runtime?.deliver(u);
    },
  });
  runtime = new StrategyRuntime({ controller: def.create(config), interval, createExecutor: env.createExecutor, finalizeEnded: true, onFinal: (r) => trades.add(r), executorsView: needs.executors ?? 'all', dropFinal });
  const stepCtx = { now: 0, market, sink: venue, price: 0 };
  const visit = (now: number, price: number) => {
    market.now = now;
    market.setPrice(price);
    venue.setPoint(now, price);
    if (runtime.needsStep(now, price)) {
      stepCtx.now = now;
      stepCtx.price = price;
      runtime.step(stepCtx);
    }
  };

  // PnL and position per candle, kept as the states between fills (see EquityTrack).
  const track = new EquityTrack(venue.perp !== null);
  venue.markInto(track, 0);
  let marked = venue.fillCount;
  const path = new Float64Array(PATH_POINTS);
  const at = new Float64Array(PATH_POINTS);
  // [from, to, nearest edge]: the edge searches' arguments and answer (see StrategyRuntime.edgeInto).
  const edgeIo = new Float64Array(3);
  const { open, close } = candles;
  market.closed = first;
  for (let i = first; i < last; i++) {
    candlePath(candles, i, spec.fill_path, path);
    pathTimes(times, i, stepMs, at);
    for (let k = 0; k < PATH_POINTS; k++) {
      const price = path[k]!;
      let from = path[k > 0 ? k - 1 : 0]!;
      let edges = k > 0 ? MAX_EDGES_PER_SEGMENT : 0;
      // The stops up to this point: the edges passed on the way from the previous one, then the point.
      // One visit call in the loop: V8 inlines it there, and a call it does not inline boxes both numbers.
      for (;;) {
        let now = at[k]!;
        let stop = price;
        let isEdge = false;
        // Between two points the price passes every level in between: stop where an executor wakes (with
        // none active and nothing resting there is no level; the test saves the searches' calls).
        if (edges > 0 && (runtime.activeCount > 0 || venue.restingCount > 0)) {
          edgeIo[0] = from;
          edgeIo[1] = price;
          edgeIo[2] = Number.NaN;
          runtime.edgeInto(edgeIo);
          venue.edgeInto(edgeIo);
          const edge = edgeIo[2]!;
          if (Math.abs(edge - from) > from * EDGE_MIN_MOVE) {
            now = at[k - 1]!;
            stop = edge;
            from = edge;
            isEdge = true;
            edges--;
          } else edges = 0;
        }
        if (!isEdge && k === PATH_POINTS - 1) market.closed = i + 1;
        visit(now, stop);
        if (!isEdge) break;
      }
    }
    const j = i - first;
    // What the fills left: the venue's balances and positions change only with a fill.
    if (venue.fillCount !== marked) {
      venue.markInto(track, j);
      marked = venue.fillCount;
    }
    if ((j + 1) % PROGRESS_EVERY === 0) {
      onProgress?.(j + 1, total);
      if (runtime.reportCount > limits.pruneAbove) runtime.pruneEnded(limits.pruneKeep, moveOut);
    }
  }
  onProgress?.(total, total);

  const series = seriesScratch(total);
  seriesInto(series, track, candles, first, stepMs);
  // Counted before allReports(), which lists (and, under dropFinal, then lets go) what it makes final.
  const dropped = runtime.droppedCount;
  const reports = total > 0 ? runtime.allReports() : [];
  const listedAfter = Math.max(0, Math.min(reports.length, limits.executors - movedOut.length));
  const unlisted = movedOutCount - movedOut.length + reports.length - listedAfter + dropped;
  const lastClose = total > 0 ? new Decimal(String(close[last - 1]!)) : new Decimal(0);
  const netPnl = venue.pnl(lastClose);
  const initialEquity = total > 0 ? quote0.plus(base0.times(String(open[first]!))).toNumber() : quote0.toNumber();
  const metrics = computeMetrics({
    initialEquity,
    netPnl,
    volume: volume.value,
    fees: fees.value,
    // allReports() above made final what had ended: what is still open was never tallied.
    executors: total > 0 ? runtime.openReports() : [],
    trades,
    series,
    durationMs: total > 0 ? at[PATH_POINTS - 1]! - times[first]! : 0,
  });
  return lazyResult(movedOut, reports.slice(0, listedAfter), fills, seriesBuilder(track, candles, first, total, stepMs), {
    controller: { name: def.name, config: config as Record<string, unknown> },
    connector: spec.connector,
    trading_pair: spec.trading_pair,
    resolution: spec.resolution,
    start: spec.start,
    end: spec.end,
    candles: total,
    gaps,
    initial_balances: { base: base0.toString(), quote: quote0.toString() },
    final_balances: { base: venue.base.total.toString(), quote: venue.quote.total.toString() },
    ...(unlisted > 0 || unlistedFills > 0 ? { unlisted: { executors: unlisted, fills: unlistedFills } } : {}),
    metrics,
  });
}

/**
 * The result, with the executor reports and the fills as JSON and the series as plain arrays built when
 * first read (an optimizer trial reads only the metrics); the first read replaces the getter with the value, so
 * the result serialises, spreads and compares as a plain object. Built here, apart from runBacktest, so
 * the getters close over nothing of the walk's own variables.
 */
function lazyResult(
  movedOut: Array<BacktestResult['executors'][number]>,
  reports: ExecutorReport[],
  fills: FillLog,
  series: SeriesSource,
  rest: Omit<BacktestResult, 'executors' | 'fills' | 'series'>,
): BacktestResult {
  // The keys in the result's order first (placeholders for the lazy three), then the getters over them:
  // redefining a key keeps its place.
  const { metrics, ...head } = rest;
  const out = { ...head, executors: [], fills: [], series: null, metrics } as unknown as BacktestResult;
  // A long run's executors moved out as they ended come first: order the whole list by creation time.
  lazy(out, 'executors', () => (movedOut.length === 0 ? reports.map(reportJson) : [...movedOut, ...reports.map(reportJson)].sort((a, b) => a.createdAt - b.createdAt)));
  lazy(out, 'fills', () => fills.toJson());
  lazy(out, 'series', series.full);
  seriesSources.set(out, series);
  return out;
}

/** Makes `key` of `o` a getter that computes its value once, then stands as an ordinary property (see settle). */
function lazy(o: object, key: string, compute: () => unknown): void {
  Object.defineProperty(o, key, {
    enumerable: true,
    configurable: true,
    get: () => settle(o, key, compute()),
    set: (v: unknown) => settle(o, key, v),
  });
}

/** Replaces a lazy getter of `o` with the value it computed: an ordinary, writable property in the same place. */
function settle<T>(o: object, key: string, value: T): T {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

/**
 * The result's series, built when first read from the states between fills and the candles (the
 * scratch arrays the metrics read serve the next run): every candle's point, or only the points a
 * thinned copy keeps, each looked up in the states. Apart from runBacktest, so it closes over nothing
 * of the walk.
 */
function seriesBuilder(track: EquityTrack, candles: CandleColumns, first: number, total: number, stepMs: number): SeriesSource {
  return {
    full: () => {
      const s = seriesInto({ time: new Float64Array(total), pnl: new Float64Array(total), position: new Float64Array(total) }, track, candles, first, stepMs);
      return { time: plain(s.time), pnl: plain(s.pnl), position: plain(s.position), price: plain(candles.close.subarray(first, first + total)) };
    },
    thinned: (max) => {
      const idx = thinIndexes(total, max);
      const out = { time: new Array<number>(idx.length), pnl: new Array<number>(idx.length), position: new Array<number>(idx.length), price: new Array<number>(idx.length), thinned_from: total };
      for (let n = 0; n < idx.length; n++) {
        const j = idx[n]!;
        const p = track.pointAt(candles.close, first, j);
        out.time[n] = candles.time[first + j]! + stepMs;
        out.pnl[n] = p.pnl;
        out.position[n] = p.position;
        out.price[n] = candles.close[first + j]!;
      }
      return out;
    },
  };
}

/** A result's series: in full, or only the points a thinned copy keeps (thinIndexes), without building the rest. */
interface SeriesSource {
  full(): BacktestResult['series'];
  thinned(max: number): BacktestResult['series'] & { thinned_from: number };
}

/** Where each lazy result's series comes from (see seriesThinned). */
const seriesSources = new WeakMap<BacktestResult, SeriesSource>();

/**
 * A result's series thinned to at most `max` points, as thinSeries(result.series, max) gives it; for a
 * result of runBacktest whose series was not read yet, without building the series of every candle (a
 * year's is four lists of 525,600 numbers, for the 5,000 points a stored result keeps).
 */
export function seriesThinned(result: BacktestResult, max: number): BacktestResult['series'] & { thinned_from: number } {
  const source = seriesSources.get(result);
  const settled = Object.getOwnPropertyDescriptor(result, 'series')?.get === undefined;
  return source && !settled ? source.thinned(max) : thinSeries(result.series, max);
}

type SeriesArrays = { time: Float64Array; pnl: Float64Array; position: Float64Array };

/** Each candle's close time (its path's last point), PnL and position, into arrays of the run's length. */
function seriesInto(out: SeriesArrays, track: EquityTrack, candles: CandleColumns, first: number, stepMs: number): SeriesArrays {
  const n = out.time.length;
  for (let j = 0; j < n; j++) out.time[j] = candles.time[first + j]! + stepMs;
  track.fill(candles.close, first, n, out.pnl, out.position);
  return out;
}

/**
 * The per-candle figures the metrics read, in arrays kept from run to run: arrays of a run's length,
 * new each run, are fresh memory, and first touching it costs more than filling it. Only runBacktest
 * uses them, within one call (it never runs inside another); a worker keeps them as long as its longest run.
 */
let scratch: SeriesArrays | null = null;

function seriesScratch(n: number): SeriesArrays {
  if (scratch === null || scratch.time.length < n) scratch = { time: new Float64Array(n), pnl: new Float64Array(n), position: new Float64Array(n) };
  return { time: scratch.time.subarray(0, n), pnl: scratch.pnl.subarray(0, n), position: scratch.position.subarray(0, n) };
}

function plain(a: Float64Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

/** The controller config a spec runs, parsed with the controller's schema (connector and pair default to the backtest's); errors name paths under controller.config. */
export function parseConfig(def: ControllerDefinition, spec: BacktestSpec): unknown {
  const raw = { connector_name: spec.connector, trading_pair: spec.trading_pair, ...spec.controller.config };
  if (raw.connector_name !== spec.connector || raw.trading_pair !== spec.trading_pair) {
    const field = raw.connector_name !== spec.connector ? 'connector_name' : 'trading_pair';
    throw new AppError('VALIDATION_FAILED', `The controller config trades ${String(raw.trading_pair)} on ${String(raw.connector_name)}, the backtest ${spec.trading_pair} on ${spec.connector}.`, {
      hint: 'Leave connector_name and trading_pair out of the controller config, or make them match the backtest.',
      details: { issues: [{ path: `controller.config.${field}`, message: `must match the backtest's ${field === 'connector_name' ? 'connector' : 'trading_pair'} (${field === 'connector_name' ? spec.connector : spec.trading_pair})` }] },
    });
  }
  const parsed = def.config.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', `Invalid controller config: ${configIssues(parsed.error.issues).map((i) => `${i.path || '(config)'}: ${i.message}`).join('; ')}`, {
      hint: `Fix the fields listed in details.issues; GET /controllers/${def.name} has the config's JSON Schema and defaults.`,
      details: { issues: configIssues(parsed.error.issues).map((i) => ({ path: i.path ? `controller.config.${i.path}` : 'controller.config', message: i.message })) },
    });
  }
  return parsed.data;
}

/**
 * What a backtest of this config cannot feed, or null: the engine walks one market's candles at one
 * resolution, so every candle feed must be of that market and a whole number of resolution steps.
 * The path is the field to change (`resolution`, or the config when it asks for another market).
 */
export function feedIssue(def: ControllerDefinition, config: unknown, spec: Pick<BacktestSpec, 'connector' | 'trading_pair' | 'resolution'>): { path: string; message: string } | null {
  const step = INTERVAL_MS[spec.resolution];
  for (const need of def.data(config).candles) {
    if (need.connector !== spec.connector || need.tradingPair !== spec.trading_pair) {
      return { path: 'controller.config', message: `the controller reads candles of ${need.tradingPair} on ${need.connector}; a backtest feeds ${spec.trading_pair} on ${spec.connector} only` };
    }
    const ms = INTERVAL_MS[need.interval];
    if (ms % step !== 0) {
      const fits = (Object.keys(INTERVAL_MS) as Array<keyof typeof INTERVAL_MS>).filter((i) => ms % INTERVAL_MS[i] === 0);
      return { path: 'resolution', message: `the controller reads ${need.interval} candles, which ${spec.resolution} does not divide; use ${fits.join(', ')}` };
    }
  }
  return null;
}

/** feedIssue as the error a caller sees, with the field path. */
export function checkFeeds(def: ControllerDefinition, config: unknown, spec: Pick<BacktestSpec, 'connector' | 'trading_pair' | 'resolution'>): void {
  const issue = feedIssue(def, config, spec);
  if (issue) {
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${issue.path}: ${issue.message}`, {
      hint: issue.path === 'resolution' ? 'Pick one of the resolutions the message lists, or change the controller interval.' : 'Backtest the market the controller reads, or set its config to this one.',
      details: { issues: [issue] },
    });
  }
}

function reportJson(r: ExecutorReport): BacktestResult['executors'][number] {
  return {
    id: r.id,
    type: r.type,
    connector: r.connector,
    tradingPair: r.tradingPair,
    side: r.side,
    status: r.status,
    closeType: r.closeType,
    createdAt: r.createdAt,
    closedAt: r.closedAt,
    positionAmount: r.positionAmount.toString(),
    entryPrice: r.entryPrice?.toString() ?? null,
    volume: r.volume.toString(),
    fees: r.fees.toString(),
    realizedPnl: r.realizedPnl.toString(),
    unrealizedPnl: r.unrealizedPnl.toString(),
    netPnl: r.netPnl.toString(),
    netPnlPct: r.netPnlPct.toString(),
    custom: r.custom,
  };
}

/** First index whose value is >= x (times are ascending). */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
