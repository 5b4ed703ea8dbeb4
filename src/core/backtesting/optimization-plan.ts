import { AppError } from '../errors.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { type OptimizationSpec } from '../backtest/optimization-spec.js';
import { candidatePoints, ParamGrid, type Params, walkForwardWindows, type WalkForwardWindow, withParams } from '../backtest/param-space.js';
import { INTERVAL_MS } from '../exchange/types.js';
import { feedIssue } from '../backtest/engine.js';
import { configIssues } from '../strategy/config-issues.js';
import { type ControllerSource, resolveBacktest, warmupCandles } from './backtest-job.js';

/**
 * An optimization made concrete before anything runs: the controller, every point of the search with
 * its parsed controller config, the walk-forward windows and the warm-up the longest config needs.
 * Every trial config is parsed here, so a bad point is refused with its path before a job exists.
 */
export interface OptimizationPlan {
  definition: ControllerDefinition;
  moduleUrl: string | null;
  points: Params[];
  /** The parsed controller config of each point. */
  configs: Record<string, unknown>[];
  /** Set for a walk-forward search. */
  windows: WalkForwardWindow[] | null;
  trialsTotal: number;
  /** Candles before the start the most demanding config needs. */
  warmupBars: number;
}

export function planOptimization(controllers: ControllerSource, spec: OptimizationSpec): OptimizationPlan {
  const base = withPrefix('backtest.', () => resolveBacktest(controllers, spec.backtest));
  const grid = new ParamGrid(spec.space);
  const search = spec.search;
  let points: Params[];
  let windows: WalkForwardWindow[] | null = null;
  let trialsTotal: number;
  if (search.method === 'walk_forward') {
    windows = walkForwardWindows(spec.backtest.start, spec.backtest.end, INTERVAL_MS[spec.backtest.resolution], search.windows, search.in_sample_segments);
    // Each window tries every point, then scores its winner once.
    points = candidatePoints(grid, search.candidates, spec.max_trials, 'search.candidates');
    trialsTotal = search.windows * (points.length + 1);
    if (trialsTotal > spec.max_trials) {
      const path = search.candidates.method === 'random' ? 'search.candidates.n' : 'search.windows';
      throw tooMany(path, `${trialsTotal} trials (${search.windows} windows × (${points.length} points + 1 out-of-sample run))`, spec.max_trials);
    }
  } else {
    points = candidatePoints(grid, search, spec.max_trials);
    trialsTotal = points.length;
  }
  const baseConfig = base.config as Record<string, unknown>;
  const configs = points.map((p, i) => {
    const parsed = base.definition.config.safeParse(withParams(baseConfig, p));
    if (!parsed.success) throw badTrial(i, p, parsed.error.issues);
    const feed = feedIssue(base.definition, parsed.data, spec.backtest);
    if (feed) {
      throw badFeed(i, p, feed.message, (key) => {
        const alone = base.definition.config.safeParse(withParams(baseConfig, { [key]: p[key]! }));
        return alone.success && feedIssue(base.definition, alone.data, spec.backtest) !== null;
      });
    }
    return parsed.data as Record<string, unknown>;
  });
  let warmupBars = 0;
  for (const c of configs) warmupBars = Math.max(warmupBars, warmupCandles(base.definition, c, spec.backtest));
  return { definition: base.definition, moduleUrl: base.moduleUrl, points, configs, windows, trialsTotal, warmupBars };
}

const tooMany = (path: string, needs: string, max: number) =>
  new AppError('VALIDATION_FAILED', `Invalid input: ${path}: the search needs ${needs}; max_trials is ${max}`, {
    hint: 'Use fewer windows or points, or raise max_trials (at most 10,000).',
    details: { issues: [{ path, message: `the search needs ${needs}, more than max_trials (${max})` }] },
  });

/** The first issue of a trial's config, placed on the space key it came from when there is one. */
function badTrial(index: number, params: Params, issues: ReadonlyArray<{ code?: string; path: PropertyKey[]; message: string; keys?: string[] }>): AppError {
  const keys = Object.keys(params);
  const list = configIssues(issues).map(({ path, message }) => {
    const key = path ? keys.find((k) => path === k || path.startsWith(`${k}.`) || k.startsWith(`${path}.`)) : undefined;
    return { path: key ? `space.${key}` : path ? `backtest.controller.config.${path}` : 'backtest.controller.config', message: `trial ${index} ${JSON.stringify(params)}: ${message}` };
  });
  return new AppError('VALIDATION_FAILED', `Trial ${index} of the search has an invalid controller config: ${list.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    hint: 'Narrow the space so that every value is one the controller accepts (GET /controllers lists its config schema).',
    details: { issues: list, trial: index, params },
  });
}

/** A trial whose config the backtest cannot feed (another market, an interval the resolution does not divide), placed on the space key that does it. */
function badFeed(index: number, params: Params, message: string, culprit: (key: string) => boolean): AppError {
  const key = Object.keys(params).find(culprit);
  const issue = { path: key ? `space.${key}` : 'space', message: `trial ${index} ${JSON.stringify(params)}: ${message}` };
  return new AppError('VALIDATION_FAILED', `Trial ${index} of the search cannot be backtested: ${issue.path}: ${issue.message}`, {
    hint: 'Keep the space to configs the backtest can feed: the backtest market, and intervals its resolution divides.',
    details: { issues: [issue], trial: index, params },
  });
}

/** Runs `f`, placing the field paths of a validation error under `prefix` (the base backtest's fields). */
function withPrefix<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof AppError && Array.isArray((err.details as { issues?: unknown })?.issues)) {
      const issues = (err.details as { issues: Array<{ path: string; message: string }> }).issues.map((i) => ({ ...i, path: `${prefix}${i.path}` }));
      throw new AppError(err.code, err.message, { ...(err.hint ? { hint: err.hint } : {}), details: { ...(err.details as object), issues } });
    }
    throw err;
  }
}
