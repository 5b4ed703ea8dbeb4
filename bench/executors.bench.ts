/**
 * Executor ticks: CPU per executor per tick with 1,000 executors open, driven the way the strategy
 * runtime drives them (one tick per step through an ExecutorContext, the idle band refreshed after each
 * tick), against a bare loop over 1,000 plain objects doing the same barrier comparisons with numbers.
 *
 *   npm run bench:executors                                            # about 2 minutes
 *   BENCH_TICKS=200 BENCH_ROUNDS=3 npx tsx bench/executors.bench.ts     # quick
 *
 * Two sets of 1,000 executors on sim BTC-USDT: `position` (all position executors) and `mixed` (250
 * each of position, dca, grid and twap). Each step moves the price a little (a bounded walk within
 * ±0.5% of 30,000) and the clock by one second, so no barrier, level or slice is reached and every
 * executor stays open. Each set is ticked in two ways: `every tick` (every executor ticked at every
 * step) and `idle bands` (a tick skipped while the price stays strictly inside the executor's idle
 * band and before its `until`, as src/core/strategy/runtime.ts does). Rounds interleave the rows so a
 * load spike hits them alike; the table shows the median of the rounds.
 */
import { Decimal } from '../src/core/decimal.js';
import type { CandleRow } from '../src/core/exchange/types.js';
import { ExecutorConfig } from '../src/core/strategy/executors/configs.js';
import { createExecutor } from '../src/core/strategy/executors/registry.js';
import type { Executor, ExecutorContext, IdleBand, MarketView, OrderRequest, OrderUpdate, Quote } from '../src/core/strategy/types.js';
import { cpuMeter, cpuWarnings, fmt, intEnv, printTable, ratio, round } from './lib/harness.js';
import { seededRandom } from '../src/core/backtest/seeded-random.js';

const EXECUTORS = intEnv('BENCH_EXECUTORS', 1_000);
const TICKS = intEnv('BENCH_TICKS', 1_000);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const BASE = 30_000;
const CONNECTOR = 'sim';
const PAIR = 'BTC-USDT';

/** A deterministic walk of small steps (at most 0.02% each), kept within ±0.5% of BASE. */
function walk(n: number): Float64Array {
  const rnd = seededRandom(4242);
  const out = new Float64Array(n);
  let p = BASE;
  for (let i = 0; i < n; i++) {
    p *= 1 + (rnd() - 0.5) * 0.0004;
    p = Math.min(BASE * 1.005, Math.max(BASE * 0.995, p));
    out[i] = p;
  }
  return out;
}

// Every round walks the same prices; the quotes are built once, as a feed hands one quote per step to all executors.
const prices = walk(TICKS);
const quotes: Quote[] = Array.from(prices, (p) => {
  const d = new Decimal(p.toFixed(2));
  return { bid: d, ask: d, mid: d };
});

/**
 * A minimal in-memory venue for one pair: market orders fill in full at the quote as soon as they are
 * submitted, limit orders rest (the walk never reaches them), cancels are confirmed at once. Updates go
 * synchronously to the executor that placed the order, the way an in-memory venue answers.
 */
class Venue implements ExecutorContext {
  now = 0;
  quoteNow: Quote = quotes[0]!;
  current: Executor | null = null;
  /** Orders and cancels sent to this venue: the timed runs must add none (nothing reached). */
  requests = 0;
  private seq = 0;
  private readonly owner = new Map<string, { executor: Executor; req: OrderRequest }>();
  private readonly noCandles: readonly CandleRow[] = [];
  readonly market: MarketView = {
    now: 0,
    quote: () => this.quoteNow,
    candles: () => this.noCandles,
    rules: () => null,
  };
  readonly sink = {
    submit: (req: OrderRequest) => this.submit(req),
    cancel: (_c: string, _p: string, id: string) => this.cancel(id),
  };

  newOrderId(): string {
    return `o${++this.seq}`;
  }

  at(now: number, quote: Quote): void {
    this.now = now;
    (this.market as { now: number }).now = now;
    this.quoteNow = quote;
  }

  private submit(req: OrderRequest): void {
    const executor = this.current!;
    this.requests++;
    this.owner.set(req.clientOrderId, { executor, req });
    if (req.type !== 'market') return;
    const price = req.side === 'buy' ? this.quoteNow.ask : this.quoteNow.bid;
    const zero = new Decimal(0);
    this.update(executor, { clientOrderId: req.clientOrderId, state: 'filled', filled: req.amount, averagePrice: price, fees: zero, newFills: [{ price, amount: req.amount, fee: zero, isMaker: false, timestamp: this.now }], timestamp: this.now });
    this.owner.delete(req.clientOrderId);
  }

  private cancel(id: string): void {
    this.requests++;
    const o = this.owner.get(id);
    if (!o) return;
    this.owner.delete(id);
    this.update(o.executor, { clientOrderId: id, state: 'canceled', filled: new Decimal(0), averagePrice: null, fees: new Decimal(0), newFills: [], timestamp: this.now });
  }

  private update(executor: Executor, u: OrderUpdate): void {
    const prev = this.current;
    this.current = executor;
    executor.onOrderUpdate(u, this);
    this.current = prev;
  }
}

const MONTH = 30 * 86_400;
const barrier = { stop_loss: 0.03, take_profit: 0.03, time_limit: MONTH, trailing_stop: { activation_price: 0.02, trailing_delta: 0.005 } };

/** The k-th executor config of a set: barriers 2–3% away, far from the ±0.5% walk; deadlines a month off. */
function config(kind: 'position' | 'dca' | 'grid' | 'twap', k: number): ExecutorConfig {
  const side = k % 2 === 0 ? 'buy' : 'sell';
  const common = { id: `${kind}-${k}`, connector_name: CONNECTOR, trading_pair: PAIR };
  switch (kind) {
    case 'position':
      return ExecutorConfig.parse({ type: 'position', ...common, side, amount: '0.01', triple_barrier: barrier });
    case 'dca':
      // Maker levels 3% and 5% away from the price: placed once, resting, never reached.
      return ExecutorConfig.parse({ type: 'dca', ...common, side, amounts_quote: ['100', '100'], prices: side === 'buy' ? ['29100', '28500'] : ['30900', '31500'], mode: 'maker', stop_loss: 0.03, take_profit: 0.03, time_limit: MONTH });
    case 'grid':
      // The whole grid lies 3–5% away from the price, on the side its orders wait for.
      return ExecutorConfig.parse({ type: 'grid', ...common, side, ...(side === 'buy' ? { start_price: '28500', end_price: '29100' } : { start_price: '30900', end_price: '31500' }), total_amount_quote: '1000', max_open_orders: 5, time_limit: MONTH });
    case 'twap':
      // Three slices ten days apart: the first is sent at start, the next one is due after the runs.
      return ExecutorConfig.parse({ type: 'twap', ...common, side, total_amount_quote: '2400', total_duration: MONTH, order_interval: MONTH / 3, mode: 'taker' });
  }
}

interface Live {
  executor: Executor;
  band: IdleBand | null;
}

interface ExecutorSet {
  name: string;
  venue: Venue;
  live: Live[];
  /** The clock of this set, in seconds since its start; each run continues it. */
  clock: number;
}

function buildSet(name: string, kinds: ReadonlyArray<'position' | 'dca' | 'grid' | 'twap'>): ExecutorSet {
  const venue = new Venue();
  const live: Live[] = [];
  for (let k = 0; k < EXECUTORS; k++) {
    const kind = kinds[k % kinds.length]!;
    live.push({ executor: createExecutor(config(kind, k), `${kind}-${k}`, 0), band: null });
  }
  // The first tick starts each executor (opens the positions, places the levels and the first slices); not timed.
  venue.at(0, quotes[0]!);
  for (const a of live) {
    venue.current = a.executor;
    a.executor.tick(venue);
    a.band = a.executor.idleBand?.() ?? null;
  }
  venue.current = null;
  return { name, venue, live, clock: 0 };
}

/** Every executor ticked at every step. Returns the ticks run. */
function runEvery(set: ExecutorSet): number {
  const { venue, live } = set;
  let ticks = 0;
  for (let i = 0; i < TICKS; i++) {
    venue.at(++set.clock * 1000, quotes[i]!);
    for (let k = 0; k < live.length; k++) {
      const a = live[k]!;
      venue.current = a.executor;
      a.executor.tick(venue);
      a.band = a.executor.idleBand?.() ?? null;
      ticks++;
    }
  }
  venue.current = null;
  return ticks;
}

/** As the runtime steps: a tick skipped while the price is strictly inside the band and before its until. */
function runIdle(set: ExecutorSet): number {
  const { venue, live } = set;
  let ticks = 0;
  for (let i = 0; i < TICKS; i++) {
    const now = ++set.clock * 1000;
    const price = prices[i]!;
    venue.at(now, quotes[i]!);
    for (let k = 0; k < live.length; k++) {
      const a = live[k]!;
      const b = a.band;
      if (b !== null && price > b.low && price < b.high && now < b.until) continue;
      venue.current = a.executor;
      a.executor.tick(venue);
      a.band = a.executor.idleBand?.() ?? null;
      ticks++;
    }
  }
  venue.current = null;
  return ticks;
}

/** The floor: 1,000 positions as plain numbers, checked against stop loss, take profit, trailing activation and time limit. */
interface Bare {
  long: boolean;
  entry: number;
  stopLoss: number;
  takeProfit: number;
  activation: number;
  deadline: number;
  peak: number;
  closed: boolean;
}

const bare: Bare[] = Array.from({ length: EXECUTORS }, (_, k) => ({ long: k % 2 === 0, entry: BASE, stopLoss: 0.03, takeProfit: 0.03, activation: 0.02, deadline: MONTH * 1000, peak: -Infinity, closed: false }));
let bareClock = 0;

function runBare(): number {
  let ticks = 0;
  for (let i = 0; i < TICKS; i++) {
    const now = ++bareClock * 1000;
    const price = prices[i]!;
    for (let k = 0; k < bare.length; k++) {
      const p = bare[k]!;
      if (p.closed) continue;
      const pnl = p.long ? (price - p.entry) / p.entry : (p.entry - price) / p.entry;
      if (pnl <= -p.stopLoss || pnl >= p.takeProfit || now >= p.deadline) p.closed = true;
      else if (pnl >= p.activation && pnl > p.peak) p.peak = pnl;
      ticks++;
    }
  }
  return ticks;
}

interface Sample {
  us: number;
  ticks: number;
  other: number;
  steal: number;
}

/**
 * CPU time (user + system) of this process over `reps` runs of a row, per run. The cheap rows repeat so
 * that each measurement lasts long enough for the machine's CPU figures (10 ms resolution) to mean something.
 */
function measure(run: () => number, reps: number): Sample {
  const meter = cpuMeter();
  let ticks = 0;
  for (let i = 0; i < reps; i++) ticks += run();
  const c = meter.stop(0);
  return { us: c.serverUs / reps, ticks: ticks / reps, other: c.other, steal: c.steal };
}

const sets = [buildSet('position', ['position']), buildSet('mixed', ['position', 'dca', 'grid', 'twap'])];
const requestsAtStart = sets.map((set) => set.venue.requests);
for (const set of sets) {
  const open = set.live.filter((a) => a.executor.status === 'active').length;
  if (open !== EXECUTORS) throw new Error(`${set.name}: ${open} of ${EXECUTORS} executors active after the first tick`);
}

interface Row {
  name: string;
  run: () => number;
  reps: number;
  samples: Sample[];
}

const rows: Row[] = [{ name: 'bare loop, numbers', run: runBare, reps: 1, samples: [] }];
for (const set of sets) {
  rows.push({ name: `${set.name}, every tick`, run: () => runEvery(set), reps: 1, samples: [] });
  rows.push({ name: `${set.name}, idle bands`, run: () => runIdle(set), reps: 1, samples: [] });
}

// Untimed runs compile the paths and size the repeats: each measurement should take about MIN_MS.
const MIN_MS = 100;
for (const r of rows) {
  for (let i = 0; i < 3; i++) r.run();
  const t0 = process.cpuUsage();
  r.run();
  const used = process.cpuUsage(t0);
  const ms = Math.max(0.05, (used.user + used.system) / 1000);
  r.reps = Math.min(100, Math.ceil(MIN_MS / ms));
}
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[(j + round) % rows.length]!;
    r.samples.push(measure(r.run, r.reps));
  }
}

sets.forEach((set, i) => {
  const open = set.live.filter((a) => a.executor.status === 'active').length;
  if (open !== EXECUTORS) throw new Error(`${set.name}: ${open} of ${EXECUTORS} executors still active after the runs; a barrier was hit`);
  const sent = set.venue.requests - requestsAtStart[i]!;
  if (sent !== 0) throw new Error(`${set.name}: ${sent} orders or cancels sent during the timed runs; the walk reached a level or a slice was due`);
});
if (bare.some((p) => p.closed)) throw new Error('bare loop: a position closed; the walk reached a barrier');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const steps = EXECUTORS * TICKS;
const perStep = (r: Row) => median(r.samples.map((s) => s.us)) / steps;
const baseline = perStep(rows[0]!);
const warnings: string[] = [];
const result: Record<string, unknown> = {};

printTable(
  ['row', 'µs/executor/tick', 'x bare loop', 'ticks run', 'µs/tick run'],
  rows.map((r) => {
    const us = perStep(r);
    const ticks = median(r.samples.map((s) => s.ticks));
    const perRun = ticks > 0 ? median(r.samples.map((s) => s.us)) / ticks : NaN;
    result[r.name] = { us_per_executor_tick: round(us, 4), ratio: round(ratio(us, baseline), 3), ticks_run_share: round(ticks / steps, 4), us_per_tick_run: round(perRun, 4) };
    r.samples.forEach((s, i) => warnings.push(...cpuWarnings(`${r.name} round ${i + 1}`, { wallMs: 0, server: 0, serverUs: s.us, client: 0, other: s.other, machine: 0, steal: s.steal })));
    return [r.name, fmt(us, 3), fmt(ratio(us, baseline), 2), `${fmt((100 * ticks) / steps, 1)}%`, fmt(perRun, 3)];
  }),
);
console.log(`\n${EXECUTORS} executors, ${TICKS} steps per run, median of ${ROUNDS} rounds of process CPU (user + system); runs per measurement: ${rows.map((r) => `${r.name} ${r.reps}`).join(', ')}.`);
for (const w of warnings) console.log(`warning: ${w}`);
console.log(`RESULT ${JSON.stringify({ executors: EXECUTORS, ticks: TICKS, rounds: ROUNDS, reps: Object.fromEntries(rows.map((r) => [r.name, r.reps])), rows: result, warnings })}`);
