/**
 * Backtest throughput: runBacktest with bollinger_v1 over a year of 1m candles from the sim exchange's
 * deterministic generator, against the same strategy written by hand (bench/lib/bollinger-by-hand.ts:
 * one loop, no controller, executor, runtime or venue) on the same candles, rounds interleaved so a load
 * spike hits all alike. The hand loop produces the engine's result (every fill and executor, exact
 * decimal money, the per-candle series, the metrics), and the bench checks that it does: the ratio
 * between the two is what the engine's structure costs. A second hand loop on plain numbers (a count
 * and a float PnL, nothing recorded) is printed as the floor: what the walk and the signal cost alone.
 *
 *   npx tsx bench/backtest.bench.ts
 *   BENCH_N=100000 BENCH_ROUNDS=5 npx tsx bench/backtest.bench.ts
 *
 * Rows: the engine with bollinger_v1 at its defaults (1m interval), the engine with the same controller
 * made silent (thresholds it never crosses: the cost of walking candles and running the controller,
 * no executor), the hand loop with the same result, and the plain-number one. Figures are candles per
 * second of CPU time (median of the rounds; the run is single-threaded, so this is per core), with wall
 * time beside it. BENCH_WARMUP rounds (2)
 * run first and are not counted: the server's worker threads stay up between jobs and an optimization
 * runs hundreds of backtests in each, so the compiled steady state is what they see; the first, cold
 * run of the engine is printed apart.
 */
import { toColumns } from '../src/core/backtest/candle-loader.js';
import { type BacktestEnv, runBacktest } from '../src/core/backtest/engine.js';
import { BacktestSpec } from '../src/core/backtest/spec.js';
import { ManualClock } from '../src/core/clock.js';
import type { CandleRow } from '../src/core/exchange/types.js';
import { simMarkets } from '../src/core/exchange/sim/markets.js';
import { SimExchange } from '../src/core/exchange/sim/sim-exchange.js';
import { bollingerV1 } from '../src/core/strategy/controllers/bollinger-v1.js';
import { createExecutor } from '../src/core/strategy/executors/registry.js';
import { bollingerByHand, pathOf } from './lib/bollinger-by-hand.js';
import { goal, goalJson, printGoals } from './lib/goals.js';
import { fmt, intEnv, printTable, ratio, round } from './lib/harness.js';

const N = intEnv('BENCH_N', 525_600);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const WARMUP = intEnv('BENCH_WARMUP', 2);
const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + (N - 1) * MIN;
const BB_LENGTH = 100;
const TRADE_COST = 0.0002;

function simCandles(): CandleRow[] {
  const sim = new SimExchange('sim', new ManualClock(END + 3_600_000));
  const m = sim.market('spot', 'BTC-USDT');
  const rows: CandleRow[] = [];
  for (let s = START - BB_LENGTH * MIN; s <= END; s += 1000 * MIN) rows.push(...sim.candles(m, '1m', { since: s, until: Math.min(END, s + 999 * MIN), limit: 1000 }));
  return rows;
}

const controllerConfig = { interval: '1m', total_amount_quote: '1000', bb_length: BB_LENGTH };
const spec = (config: Record<string, unknown>) =>
  BacktestSpec.parse({
    controller: { name: 'bollinger_v1', config },
    connector: 'sim',
    trading_pair: 'BTC-USDT',
    start: START,
    end: END,
    resolution: '1m',
    trade_cost: TRADE_COST,
    initial_balances: { base: '1', quote: '100000' },
  });
const env: BacktestEnv = { controller: () => bollingerV1, createExecutor, market: simMarkets('spot').find((m) => m.trading_pair === 'BTC-USDT')! };

interface HandPosition {
  dir: 1 | -1;
  amount: number;
  created: number;
  entry: number;
  trailing: number;
}

/**
 * The floor: bollinger_v1 at the same settings on plain numbers, nothing recorded: %B of the last 100 closes (population std, 2σ)
 * at each candle close; below 0 opens a long, above 1 a short, at most 2 per side, 300 s apart, each
 * 500 quote; the open fills at the next path point; each point checks stop loss 3%, the trailing stop
 * (armed at +1.5%, 0.3% behind its peak), the resting take profit at +2% (fills at its price) and the
 * 2700 s time limit. The path is the engine's (O-L-H-C up, O-H-L-C down); barriers fill at the point,
 * not at their level, and fees are floats: its PnL is near the engine's, not equal.
 */
function plainLoop(cols: ReturnType<typeof toColumns>, first: number): { executors: number; pnl: number } {
  const { time, close } = cols;
  const ring = new Float64Array(BB_LENGTH);
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  for (let i = 0; i < first; i++) push(close[i]!);
  function push(x: number) {
    const old = ring[count % BB_LENGTH]!;
    if (count >= BB_LENGTH) {
      sum -= old;
      sumSq -= old * old;
    }
    ring[count % BB_LENGTH] = x;
    sum += x;
    sumSq += x * x;
    count++;
  }
  const open_: HandPosition[] = [];
  let pending: { dir: 1 | -1; created: number; quote: number } | null = null;
  const lastCreated = { 1: -Infinity, [-1]: -Infinity } as Record<number, number>;
  let executors = 0;
  let pnl = 0;
  const path = [0, 0, 0, 0];
  for (let i = first; i < time.length; i++) {
    const t = time[i]!;
    pathOf(cols, i, path);
    for (let k = 0; k < 4; k++) {
      const p = path[k]!;
      const now = t + (k === 3 ? MIN : Math.floor((k * MIN) / 3));
      if (pending) {
        open_.push({ dir: pending.dir, amount: pending.quote / p, created: pending.created, entry: p, trailing: NaN });
        pnl -= (pending.quote / p) * p * TRADE_COST;
        pending = null;
      }
      for (let j = 0; j < open_.length; j++) {
        const x = open_[j]!;
        const r = (x.dir * (p - x.entry)) / x.entry;
        let exit = NaN;
        if (r <= -0.03) exit = p;
        else if (!Number.isNaN(x.trailing) && r < x.trailing) exit = p;
        else if (r >= 0.02) exit = x.entry * (1 + x.dir * 0.02);
        else if (now >= x.created + 2_700_000) exit = p;
        if (Number.isNaN(exit)) {
          if (Number.isNaN(x.trailing) ? r >= 0.015 : r - 0.003 > x.trailing) x.trailing = r - 0.003;
          continue;
        }
        pnl += x.dir * (exit - x.entry) * x.amount - exit * x.amount * TRADE_COST;
        open_.splice(j--, 1);
      }
    }
    push(close[i]!);
    const mean = sum / BB_LENGTH;
    const sd = Math.sqrt(Math.max(0, sumSq / BB_LENGTH - mean * mean));
    const pb = (close[i]! - (mean - 2 * sd)) / (4 * sd);
    const dir = pb < 0 ? 1 : pb > 1 ? -1 : 0;
    if (dir === 0 || pending) continue;
    const now = t + MIN;
    let active = 0;
    for (const x of open_) if (x.dir === dir) active++;
    if (active < 2 && now - lastCreated[dir]! > 300_000) {
      pending = { dir, created: now, quote: 500 };
      lastCreated[dir] = now;
      executors++;
    }
  }
  return { executors, pnl };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows = simCandles();
const cols = toColumns(rows);
const first = rows.findIndex((r) => r.timestamp >= START);
const engineSpec = spec(controllerConfig);
const silentSpec = spec({ ...controllerConfig, bb_long_threshold: -1000, bb_short_threshold: 1000 });
/** CPU time of this process (ms): on a shared machine it moves far less than wall time. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const runs = { engine: [] as number[], silent: [] as number[], hand: [] as number[], plain: [] as number[] };
const walls = { engine: [] as number[], silent: [] as number[], hand: [] as number[], plain: [] as number[] };
function timed<T>(key: keyof typeof runs, f: () => T): T {
  const c0 = cpuMs();
  const w0 = performance.now();
  const out = f();
  walls[key].push(performance.now() - w0);
  runs[key].push(cpuMs() - c0);
  return out;
}
let engineResult: ReturnType<typeof runBacktest> | null = null;
let hand: ReturnType<typeof bollingerByHand> | null = null;
let plain: ReturnType<typeof plainLoop> | null = null;
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  engineResult = timed('engine', () => runBacktest(engineSpec, cols, null, env));
  timed('silent', () => runBacktest(silentSpec, cols, null, env));
  hand = timed('hand', () => bollingerByHand(cols, first, rows.length));
  plain = timed('plain', () => plainLoop(cols, first));
}
const coldEngine = runs.engine[0]!;
for (const k of ['engine', 'silent', 'hand', 'plain'] as const) {
  runs[k].splice(0, WARMUP);
  walls[k].splice(0, WARMUP);
}
const rate = (ms: number[]) => (N / median(ms)) * 1000;
const engineRate = rate(runs.engine);
const silentRate = rate(runs.silent);
const handRate = rate(runs.hand);
const plainRate = rate(runs.plain);
const m = engineResult!.metrics;
const hm = hand!.metrics;
/**
 * The metrics that differ between the two, if any. Sharpe and Sortino are read from the per-candle PnL
 * as doubles, which the engine sums its own way (an exact total, rounded once): they may differ in the
 * last digits, so those two are compared to 1e-9.
 */
const mismatched = (Object.keys(m) as Array<keyof typeof m>).filter((k) => {
  const a = m[k];
  const b = hm[k];
  if (typeof a === 'number' && typeof b === 'number' && (k === 'sharpe_ratio' || k === 'sortino_ratio')) return Math.abs(a - b) > 1e-9 * Math.abs(a);
  return JSON.stringify(a) !== JSON.stringify(b);
});
const sameResult = mismatched.length === 0 && hand!.fills.length === engineResult!.fills.length;

printTable(
  ['run', 'candles/s (CPU)', 'CPU ms', 'wall ms', 'executors', 'net PnL (quote)'],
  [
    ['engine, bollinger_v1, first run (cold)', fmt((N / coldEngine) * 1000, 0), fmt(coldEngine, 0), '', '', ''],
    ['engine, bollinger_v1', fmt(engineRate, 0), fmt(median(runs.engine), 0), fmt(median(walls.engine), 0), String(m.total_executors), m.net_pnl_quote],
    ['engine, bollinger_v1 silent', fmt(silentRate, 0), fmt(median(runs.silent), 0), fmt(median(walls.silent), 0), '0', '0'],
    ['by hand, same result', fmt(handRate, 0), fmt(median(runs.hand), 0), fmt(median(walls.hand), 0), String(hm.total_executors), hm.net_pnl_quote],
    ['by hand, plain numbers (floor)', fmt(plainRate, 0), fmt(median(runs.plain), 0), fmt(median(walls.plain), 0), String(plain!.executors), fmt(plain!.pnl, 4)],
  ],
);
console.log(sameResult ? "The hand loop's result equals the engine's (metrics, fills, executors)." : `The hand loop's result differs from the engine's: ${mismatched.join(', ') || 'fill count'}.`);
console.log(`engine / plain-number floor: ${fmt(ratio(median(runs.engine), median(runs.plain)), 2)}x (not a goal: the floor records nothing and its money is floats)`);
const goals = [
  goal('engine candles/s per core (millions), bollinger_v1', engineRate / 1e6, '>=', 2, ''),
  goal('by-hand loop gives the engine\'s result (1 = yes)', sameResult ? 1 : 0, '>=', 1, ''),
  goal('engine / by-hand loop CPU time, same result', ratio(median(runs.engine), median(runs.hand)), '<=', 3, 'x'),
  goal('engine candles/s per core (millions), silent controller', silentRate / 1e6, '>=', 2, ''),
];
printGoals('goal', goals);
console.log(
  JSON.stringify({
    candles: N,
    rounds: ROUNDS,
    warmup_rounds: WARMUP,
    cold_engine_candles_per_s: round((N / coldEngine) * 1000, 0),
    engine_candles_per_s: round(engineRate, 0),
    silent_candles_per_s: round(silentRate, 0),
    hand_candles_per_s: round(handRate, 0),
    plain_candles_per_s: round(plainRate, 0),
    engine_over_hand: round(ratio(median(runs.engine), median(runs.hand)), 2),
    engine_over_plain: round(ratio(median(runs.engine), median(runs.plain)), 2),
    same_result: sameResult,
    engine_executors: m.total_executors,
    hand_executors: hm.total_executors,
    close_types: m.close_types,
    goals: goals.map(goalJson),
  }),
);
