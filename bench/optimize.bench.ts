/**
 * Optimization throughput: parameter sets of bollinger_v1 over one month of sim 1m candles, run as the
 * optimization job runs them (planned, candles on shared memory, trial batches on a StrategyPool),
 * on 1 worker and on 2, in the same run. Also the cost of handing a task its candle columns: cloned
 * per task against shared memory.
 *
 *   npm run bench:optimize
 *   BENCH_TRIALS=40 BENCH_DAYS=30 npx tsx bench/optimize.bench.ts
 *
 * The trials are a seeded random draw from a 1,000-point grid (bb_length 20…119 × bb_std 1.0…2.8), so
 * a smaller BENCH_TRIALS is a sample of the same space. BENCH_ROUNDS rounds (2) each run every trial on
 * 1 worker and on 2, the order swapped from one round to the next, so that a VM whose speed drifts
 * during the run does not pass the drift off as speedup; the goals read the mean of the rounds.
 */
import { availableParallelism } from 'node:os';
import { toColumns, type CandleColumns } from '../src/core/backtest/candle-loader.js';
import { OptimizationFields } from '../src/core/backtest/optimization-spec.js';
import type { ControllerSource } from '../src/core/backtesting/backtest-job.js';
import { runBatches, sharedColumns } from '../src/core/backtesting/optimization-job.js';
import { planOptimization } from '../src/core/backtesting/optimization-plan.js';
import type { TrialsWorkerInput } from '../src/core/backtesting/pool-worker.js';
import type { TrialRun } from '../src/core/backtesting/trials-task.js';
import { StrategyPool } from '../src/core/backtesting/worker-pool.js';
import type { CandleRow } from '../src/core/exchange/types.js';
import { simMarkets } from '../src/core/exchange/sim/markets.js';
import { SimExchange } from '../src/core/exchange/sim/sim-exchange.js';
import { SHIPPED_CONTROLLERS } from '../src/core/strategy/controllers/index.js';
import { goal, printGoals } from './lib/goals.js';
import { fmt, intEnv, log, printTable, ratio } from './lib/harness.js';

const TRIALS = intEnv('BENCH_TRIALS', 1000);
const DAYS = intEnv('BENCH_DAYS', 30);
const DISPATCH_ROUNDS = intEnv('BENCH_DISPATCH_ROUNDS', 20);
const ROUNDS = intEnv('BENCH_ROUNDS', 2);
const MIN = 60_000;
const START = Date.UTC(2024, 0, 1);
const END = START + DAYS * 1440 * MIN - MIN;

/** The shipped controllers by name, as the strategy catalog serves them. */
const shipped: ControllerSource = {
  controller: (name) => {
    const definition = SHIPPED_CONTROLLERS.find((d) => d.name === name);
    return definition ? { definition, moduleUrl: null } : undefined;
  },
};

const spec = OptimizationFields.parse({
  backtest: { controller: { name: 'bollinger_v1', config: {} }, connector: 'sim', trading_pair: 'BTC-USDT', start: START, end: END, trade_cost: 0.0004 },
  space: { bb_length: { min: 20, max: 119, step: 1 }, bb_std: { min: 1, max: 2.8, step: 0.2 } },
  search: { method: 'random', n: TRIALS, random_state: 7 },
  objective: { metric: 'sharpe_ratio', direction: 'maximize' },
});
const plan = planOptimization(shipped, spec);

function monthOfCandles(): CandleColumns {
  const sim = new SimExchange('sim', { now: () => END + 2 * MIN, date: () => new Date(END + 2 * MIN) } as never);
  const m = sim.market('spot', 'BTC-USDT');
  const rows: CandleRow[] = [];
  for (let t = START - plan.warmupBars * MIN; t <= END; ) {
    const page = sim.candles(m, '1m', { since: t, until: END, limit: 1000 });
    if (page.length === 0) break;
    rows.push(...page);
    t = page[page.length - 1]!.timestamp + MIN;
  }
  return toColumns(rows);
}

const market = simMarkets('spot').find((x) => x.trading_pair === 'BTC-USDT')!;
const runs: TrialRun[] = plan.configs.map((config, trial) => ({ trial, config, start: START, end: END }));

async function timeTrials(threads: number, columns: CandleColumns): Promise<{ seconds: number; cpuSeconds: number; done: number }> {
  const pool = new StrategyPool({ maxThreads: threads, idleTimeoutMs: 60_000 });
  try {
    const task: Omit<TrialsWorkerInput, 'trials'> = { spec: spec.backtest, columns, market };
    // Every thread started and its modules loaded before the clock starts.
    await Promise.all(Array.from({ length: threads }, () => pool.run({ name: 'trials', input: { ...task, trials: [] } })));
    let done = 0;
    const t0 = performance.now();
    // The process's CPU time covers its worker threads: over the wall time it is the cores the run got.
    const cpu0 = process.cpuUsage();
    await runBatches(pool, task, runs, new AbortController().signal, () => {
      done++;
      if (done % 10 === 0) log(`\r${threads} worker(s): ${done}/${runs.length}`);
    });
    log('\n');
    const cpu = process.cpuUsage(cpu0);
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, done };
  } finally {
    await pool.stop();
  }
}

/** ms to send one empty task with the columns: cloned into the worker each time, or on shared memory. */
async function dispatchMs(columns: CandleColumns): Promise<number> {
  const pool = new StrategyPool({ maxThreads: 1, idleTimeoutMs: 60_000 });
  try {
    const input = { spec: spec.backtest, columns, market, trials: [] };
    await pool.run({ name: 'trials', input });
    const t0 = performance.now();
    for (let i = 0; i < DISPATCH_ROUNDS; i++) await pool.run({ name: 'trials', input });
    return (performance.now() - t0) / DISPATCH_ROUNDS;
  } finally {
    await pool.stop();
  }
}

const plain = monthOfCandles();
const shared = sharedColumns(plain);
const candles = plain.time.length;
log(`${TRIALS} trials of bollinger_v1 over ${DAYS} days (${candles} 1m candles with warm-up), ${availableParallelism()} cores\n`);

const cloneMs = await dispatchMs(plain);
const sharedMs = await dispatchMs(shared);
type Timed = Awaited<ReturnType<typeof timeTrials>>;
const rounds: Array<{ round: number; workers: number; r: Timed }> = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const workers of round % 2 === 1 ? [1, 2] : [2, 1]) rounds.push({ round, workers, r: await timeTrials(workers, shared) });
}
/** The rounds of one pool size, summed: seconds and CPU over the trials of every round. */
const total = (workers: number): Timed => {
  const of = rounds.filter((x) => x.workers === workers).map((x) => x.r);
  return { seconds: of.reduce((a, x) => a + x.seconds, 0) / of.length, cpuSeconds: of.reduce((a, x) => a + x.cpuSeconds, 0) / of.length, done: of.reduce((a, x) => a + x.done, 0) / of.length };
};
const one = total(1);
const two = total(2);
const speedup = ratio(one.seconds, two.seconds);

printTable(
  ['round', 'workers', 'trials', 'seconds', 'trials/s', 'CPU ms/trial', 'cores used'],
  [...rounds.map((x) => ({ label: String(x.round), workers: x.workers, r: x.r })), { label: 'mean', workers: 1, r: one }, { label: 'mean', workers: 2, r: two }].map(({ label, workers, r }) => [
    label,
    String(workers),
    String(r.done),
    fmt(r.seconds),
    fmt(r.done / r.seconds),
    fmt((r.cpuSeconds * 1000) / r.done, 0),
    fmt(r.cpuSeconds / r.seconds),
  ]),
);
printTable(['columns handed to a task', 'ms per task'], [
  [`cloned (${fmt((candles * 6 * 8) / 1e6, 1)} MB)`, fmt(cloneMs, 3)],
  ['shared memory', fmt(sharedMs, 3)],
]);
const projected = (two.seconds * 1000) / two.done;
// On a machine shared with other work the second worker may not get a core; the cores used say so.
if (two.cpuSeconds / two.seconds < 1.6) log(`note: the 2-worker run got ${fmt(two.cpuSeconds / two.seconds)} cores of CPU; the speedup is bounded by that, not by the pool\n`);
printGoals('goal', [
  goal(`${TRIALS} trials on 2 workers, seconds (mean of ${ROUNDS} rounds)`, two.seconds, '<=', 10, '', TRIALS === 1000 ? undefined : `1,000 trials projected: ${fmt(projected, 0)} s`),
  goal('speedup of 2 workers over 1', speedup, '>=', 1.8),
]);
