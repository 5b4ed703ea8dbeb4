/**
 * Controller steps: how many candles per second a shipped controller decides on, driven the way a
 * backtest drives it (one update per closed candle, through a MarketView over candle columns), against
 * its bare indicator loop over the same closes in the same run: the floor no controller can beat.
 *
 *   npm run bench:controllers
 *   BENCH_N=2000000 BENCH_ROUNDS=5 npx tsx bench/controllers.bench.ts
 *   BENCH_ONLY=bollinger_v1 npx tsx bench/controllers.bench.ts     # only these controllers
 *   BENCH_HELD_ONLY=1 npx tsx bench/controllers.bench.ts            # only the run whose executors never end
 *
 * The view hands out candles from reused row objects (a backtest's view need not allocate per step)
 * and keeps each created executor active until its lifetime is over or the controller stops it, so the
 * per-side cap, the cooldown and the refresh see what they would in a backtest; no orders are simulated.
 */
import { Decimal } from '../src/core/decimal.js';
import type { CandleInterval, CandleRow } from '../src/core/exchange/types.js';
import { INTERVAL_MS } from '../src/core/exchange/types.js';
import type { ControllerDefinition } from '../src/core/strategy/controller.js';
import { bollingerV1, macdBbV1, pmmDynamic, supertrendV1 } from '../src/core/strategy/controllers/index.js';
import { BollingerBands, Macd, Natr, Supertrend } from '../src/core/strategy/indicators/index.js';
import type { ControllerView, ExecutorReport, MarketView, Quote } from '../src/core/strategy/types.js';
import { fmt, intEnv, printTable } from './lib/harness.js';
import { randomWalk } from '../test/helpers/random-walk.js';

const N = intEnv('BENCH_N', 2_000_000);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : null;
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const INTERVAL: CandleInterval = '1m';
const STEP = INTERVAL_MS[INTERVAL];

const cols = randomWalk(N, 12345, STEP);

/** A backtest-like view over the columns: `closed` candles visible, rows filled into reused objects. */
class ColumnView implements MarketView, ControllerView {
  now = 0;
  closed = 0;
  executors: ExecutorReport[] = [];
  private readonly pool: CandleRow[] = [];
  private readonly out: CandleRow[] = [];
  private seq = 0;

  get market(): MarketView {
    return this;
  }

  rules(): null {
    return null;
  }

  /** Every executor in this view is live (ended ones drop out), so the active list is the list. */
  get activeExecutors(): readonly ExecutorReport[] {
    return this.executors;
  }

  quote(): Quote | null {
    if (this.closed === 0) return null;
    const d = new Decimal(cols.close[this.closed - 1] as number);
    return { bid: d, ask: d, mid: d };
  }

  candles(_c: string, _p: string, _i: CandleInterval, limit = this.closed): readonly CandleRow[] {
    const n = Math.min(limit, this.closed);
    const from = this.closed - n;
    this.out.length = n;
    for (let k = 0; k < n; k++) {
      let row = this.pool[k];
      if (row === undefined) {
        row = { timestamp: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
        this.pool[k] = row;
      }
      const j = from + k;
      row.timestamp = cols.time[j] as number;
      row.high = cols.high[j] as number;
      row.low = cols.low[j] as number;
      row.close = row.open = cols.close[j] as number;
      this.out[k] = row;
    }
    return this.out;
  }

  newExecutorId(): string {
    return `ex-${++this.seq}`;
  }
}

function report(id: string, side: 'buy' | 'sell', createdAt: number): ExecutorReport {
  const z = new Decimal(0);
  return { id, type: 'position', connector: 'sim', tradingPair: 'BTC-USDT', side, status: 'active', closeType: null, createdAt, closedAt: null, positionAmount: z, entryPrice: null, volume: z, fees: z, realizedPnl: z, unrealizedPnl: z, netPnl: z, netPnlPct: z, custom: {} };
}

/**
 * Steps a controller over every candle; each executor it creates stays active for `lifetime` ms (then
 * drops out of the view, as a runtime that lists only live executors would show it). Returns [ms, actions].
 */
function runController(def: ControllerDefinition, overrides: Record<string, unknown>, lifetime: number): [number, number] {
  const config = def.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', interval: INTERVAL, ...overrides });
  const instance = def.create(config);
  const view = new ColumnView();
  let actions = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    view.closed = i + 1;
    view.now = (i + 1) * STEP;
    if (view.executors.length > 0 && view.now - (view.executors[0] as ExecutorReport).createdAt > lifetime) {
      view.executors = view.executors.filter((e) => view.now - e.createdAt <= lifetime);
    }
    const out = instance.update(view);
    for (let k = 0; k < out.length; k++) {
      const a = out[k];
      if (a === undefined) continue;
      if (a.kind === 'create') view.executors.push(report(a.config.id ?? '', a.config.side, view.now));
      else view.executors = view.executors.filter((e) => e.id !== a.executorId);
    }
    actions += out.length;
  }
  return [performance.now() - t0, actions];
}

/** The indicators alone over the same candles: the floor under each controller. */
const floors: Record<string, () => number> = {
  bollinger_v1: () => {
    const bb = new BollingerBands(100, 2);
    let s = 0;
    for (let i = 0; i < N; i++) s += bb.update(cols.close[i] as number) < 0 ? 1 : 0;
    return s;
  },
  macd_bb_v1: () => {
    const bb = new BollingerBands(100, 2);
    const m = new Macd(21, 42, 9);
    let s = 0;
    for (let i = 0; i < N; i++) s += bb.update(cols.close[i] as number) < 0 && m.update(cols.close[i] as number) < 0 ? 1 : 0;
    return s;
  },
  supertrend_v1: () => {
    const st = new Supertrend(20, 4);
    let s = 0;
    for (let i = 0; i < N; i++) s += st.update(cols.high[i] as number, cols.low[i] as number, cols.close[i] as number);
    return s;
  },
  pmm_dynamic: () => {
    const n = new Natr(14);
    const m = new Macd(21, 42, 9);
    let s = 0;
    for (let i = 0; i < N; i++) s += n.update(cols.high[i] as number, cols.low[i] as number, cols.close[i] as number) + m.update(cols.close[i] as number);
    return s;
  },
};

const CASES: Array<[ControllerDefinition, Record<string, unknown>]> = [
  [bollingerV1, {}],
  [macdBbV1, {}],
  [supertrendV1, {}],
  // Refreshed every candle-ish would be all Decimal work; a day keeps the ladder mostly resting, as in use.
  [pmmDynamic, { executor_refresh_time: 86_400 }],
];

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Two runs per controller: executors living 45 minutes (the default time limit), so the controller
 * keeps creating them and pays for sizing each in Decimal; and executors that never end, so after the
 * first few every step is a decision that ends in no action: the cost of watching the market.
 */
const RUNS: Array<[string, number]> = process.env.BENCH_HELD_ONLY ? [['held', Infinity]] : [
  ['45 min', 2700 * 1000],
  ['held', Infinity],
];

let sink = 0;
const rows: string[][] = [];
for (const [def, overrides] of CASES) {
  if (ONLY !== null && !ONLY.has(def.name)) continue;
  const floor: number[] = [];
  const ctl: number[][] = RUNS.map(() => []);
  const actions: number[] = RUNS.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    const f0 = performance.now();
    sink += (floors[def.name] as () => number)();
    floor.push(performance.now() - f0);
    RUNS.forEach(([, lifetime], k) => {
      const [ms, a] = runController(def, overrides, lifetime);
      (ctl[k] as number[]).push(ms);
      actions[k] = a;
    });
  }
  const f = median(floor);
  RUNS.forEach(([label], k) => {
    const c = median(ctl[k] as number[]);
    rows.push([`${def.name} (${label})`, fmt((N / c) * 1000 / 1e6, 2), fmt((c * 1e6) / N, 0), fmt((f * 1e6) / N, 0), fmt(c / f, 2), String(actions[k])]);
  });
}
printTable(['controller (executor life)', 'M candles/s', 'ns/step', 'floor ns/step', 'x floor', 'actions'], rows);
console.log(`N=${N} candles (${INTERVAL}), median of ${ROUNDS} rounds${sink === 0.5 ? ' ' : ''}`);
