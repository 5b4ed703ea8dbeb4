import { invalidField } from '../errors.js';
import type { BacktestMetrics } from './metrics.js';
import { type Candidates, type Constraint, meetsConstraints, metricValue, type Objective, type ParamSpec } from './optimization-spec.js';
import { seededRandom } from './seeded-random.js';

/**
 * The points of a parameter space, without IO: each parameter's values, the grid in a fixed order
 * (the first parameter varies slowest), distinct random draws from a seed, and walk-forward windows.
 * A point is addressed by its index in the grid, so a random search is a draw of grid indexes.
 */

export type ParamValue = number | string | boolean | null;
export type Params = Record<string, ParamValue>;

/** Largest grid addressed by index (exact integers). */
const MAX_GRID = Number.MAX_SAFE_INTEGER;

/** Decimals of a number as written (1e-7 → 7), so that min + i·step lands on the written values. */
function decimalsOf(x: number): number {
  const s = String(x);
  const e = s.match(/e-(\d+)$/);
  if (e) return Number(e[1]) + (s.split('e')[0]!.split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

/**
 * One parameter's values as an axis: how many, and the i-th, computed rather than listed, so a range of
 * millions of steps costs nothing until a point is asked for (a random search draws a few of them).
 */
export interface Axis {
  /** Infinity when the range holds more values than can be indexed. */
  count: number;
  at(i: number): ParamValue;
}

export function axisOf(p: ParamSpec): Axis {
  if ('values' in p) return { count: p.values.length, at: (i) => p.values[i]! };
  const d = Math.min(15, Math.max(decimalsOf(p.min), decimalsOf(p.step)));
  const n = Math.floor((p.max - p.min) / p.step + 1e-9) + 1;
  return { count: Number.isFinite(n) && n <= MAX_GRID ? n : Infinity, at: (i) => Number((p.min + i * p.step).toFixed(d)) };
}

/** Every value of a parameter, in order (for spaces known to be small). */
export function paramValues(p: ParamSpec): ParamValue[] {
  const a = axisOf(p);
  return Array.from({ length: a.count }, (_, i) => a.at(i));
}

export class ParamGrid {
  readonly keys: string[];
  readonly axes: Axis[];
  /** Points in the grid; Infinity past MAX_GRID. */
  readonly size: number;

  constructor(space: Record<string, ParamSpec>) {
    // In path order, not as written: a stored job input (jsonb) keeps no key order, and the start
    // (which checks every point) and the run must number the points alike.
    this.keys = Object.keys(space).sort();
    this.axes = this.keys.map((k) => axisOf(space[k]!));
    let size = 1;
    for (const a of this.axes) size = size * a.count > MAX_GRID ? Infinity : size * a.count;
    this.size = size;
  }

  /** The point at `index` (0 ≤ index < size): mixed radix, the last parameter varying fastest. */
  at(index: number): Params {
    const out: Params = {};
    let rest = index;
    for (let k = this.keys.length - 1; k >= 0; k--) {
      const a = this.axes[k]!;
      out[this.keys[k]!] = a.at(rest % a.count);
      rest = Math.floor(rest / a.count);
    }
    return Object.fromEntries(this.keys.map((k) => [k, out[k]!]));
  }
}

/** `n` distinct indexes of [0, size), in draw order (Floyd's sampling: n draws whatever the size). */
export function drawIndexes(size: number, n: number, seed: number): number[] {
  const rnd = seededRandom(seed);
  const seen = new Set<number>();
  const out: number[] = [];
  for (let j = size - n; j < size; j++) {
    const t = Math.floor(rnd() * (j + 1));
    const pick = seen.has(t) ? j : t;
    seen.add(pick);
    out.push(pick);
  }
  return out;
}

/** The points a search tries, or a field-path error when there are more than `max`. */
export function candidatePoints(grid: ParamGrid, how: Candidates, max: number, pathPrefix = 'search'): Params[] {
  if (how.method === 'grid') {
    if (grid.size > max) throw invalidField('space', `the grid has ${grid.size === Infinity ? 'too many' : grid.size} points; at most ${max} trials per optimization (widen the steps, drop values, or use a random search)`);
    return Array.from({ length: grid.size }, (_, i) => grid.at(i));
  }
  if (how.n > max) throw invalidField(`${pathPrefix}.n`, `${how.n} trials; at most ${max} per optimization`);
  if (how.n > grid.size) throw invalidField(`${pathPrefix}.n`, `the space has only ${grid.size} points; draw at most that many (or use a grid search)`);
  const endless = grid.keys.find((_, k) => grid.axes[k]!.count === Infinity);
  if (endless !== undefined || grid.size === Infinity) throw invalidField(`space.${endless ?? grid.keys[0]}`, 'the range holds more values than can be counted; use a larger step');
  return drawIndexes(grid.size, how.n, how.random_state).map((i) => grid.at(i));
}

/** `base` with each dotted path of `params` set, copying every object on the way (base is not changed). */
export function withParams(base: Record<string, unknown>, params: Params): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [path, value] of Object.entries(params)) {
    const keys = path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const child = node[k];
      const copy = child && typeof child === 'object' && !Array.isArray(child) ? { ...(child as Record<string, unknown>) } : {};
      node[k] = copy;
      node = copy;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return out;
}

export interface Segment {
  start: number;
  end: number;
}

export interface WalkForwardWindow {
  in_sample: Segment;
  out_of_sample: Segment;
}

/**
 * The range [start, end] (candle open times, `step` apart) cut into `inSample + windows` segments of
 * whole candles, as equal as can be (the first ones one candle longer); window i fits on segments
 * i … i+inSample−1 and is scored on segment i+inSample.
 */
export function walkForwardWindows(start: number, end: number, step: number, windows: number, inSample: number): WalkForwardWindow[] {
  const first = Math.ceil(start / step);
  const candles = Math.floor(end / step) - first + 1;
  const parts = inSample + windows;
  if (candles < parts) throw invalidField('search.windows', `the range holds ${Math.max(candles, 0)} candles, fewer than the ${parts} segments of ${inSample} in-sample + ${windows} windows`);
  const base = Math.floor(candles / parts);
  const extra = candles % parts;
  const bounds: Segment[] = [];
  let at = first;
  for (let k = 0; k < parts; k++) {
    const len = base + (k < extra ? 1 : 0);
    bounds.push({ start: at * step, end: (at + len - 1) * step });
    at += len;
  }
  return Array.from({ length: windows }, (_, i) => ({
    in_sample: { start: bounds[i]!.start, end: bounds[i + inSample - 1]!.end },
    out_of_sample: bounds[i + inSample]!,
  }));
}

export interface TrialOutcome {
  trial: number;
  params: Params;
  metrics: BacktestMetrics;
}

/**
 * Trials that meet the constraints and have the objective, best first (ties: the earlier trial).
 * Null objectives and broken constraints are left out, not ranked last.
 */
export function rankTrials<T extends TrialOutcome>(trials: Iterable<T>, objective: Objective, constraints: readonly Constraint[]): T[] {
  const sign = objective.direction === 'maximize' ? -1 : 1;
  const kept: Array<{ t: T; v: number }> = [];
  for (const t of trials) {
    const v = metricValue(t.metrics, objective.metric);
    if (v !== null && meetsConstraints(t.metrics, constraints)) kept.push({ t, v });
  }
  kept.sort((a, b) => sign * (a.v - b.v) || a.t.trial - b.t.trial);
  return kept.map((k) => k.t);
}
