import { z } from 'zod';
import type { BacktestMetrics } from './metrics.js';
import { BacktestSpecFields } from './spec.js';

/**
 * What an optimization runs: one base backtest, a parameter space over its controller config, a search
 * over that space, an objective to rank trials by and constraints a trial must meet to be ranked.
 * Expansion of the space (grid, random draws, walk-forward windows) is in param-space.ts.
 */

/** Trials one optimization may run at most, whatever max_trials says. */
export const MAX_TRIALS = 10_000;
export const MAX_TOP_N = 100;

/** The metrics a trial can be ranked or constrained by: every number of BacktestMetrics (the quote totals read as numbers). */
export const METRIC_NAMES = [
  'net_pnl_quote',
  'net_pnl_pct',
  'total_executors',
  'total_positions',
  'total_volume_quote',
  'total_fees_quote',
  'accuracy',
  'accuracy_long',
  'accuracy_short',
  'win_rate',
  'profit_factor',
  'max_drawdown_quote',
  'max_drawdown_pct',
  'sharpe_ratio',
  'sortino_ratio',
  'calmar_ratio',
  'exposure',
] as const satisfies ReadonlyArray<keyof BacktestMetrics>;
export type MetricName = (typeof METRIC_NAMES)[number];

const Num = z.number().finite();

export const RangeParam = z
  .strictObject({
    min: Num,
    max: Num,
    step: Num.positive(),
  })
  .refine((r) => r.max >= r.min, { message: 'max must not be below min', path: ['max'] })
  .describe('Values min, min+step, … up to max (inclusive).');

export const ChoiceParam = z
  .strictObject({
    values: z
      .array(z.union([Num, z.string().max(200), z.boolean(), z.null()]))
      .min(1)
      .max(1000)
      // A repeated value would run the same trial twice and rank it twice.
      .superRefine((vs, ctx) => {
        const seen = new Set<unknown>();
        vs.forEach((v, i) => {
          if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(v)} is already in the list` });
          seen.add(v);
        });
      }),
  })
  .describe('These distinct values, in this order.');

const PARAM_FORMS = 'a range {min, max, step} or a list {values: [...]}';

/**
 * Which of the two forms an input meant, by its keys, and what is wrong with it in that form: a plain
 * union would only say "Invalid input".
 */
function paramSpecError(iss: { input?: unknown; errors?: Array<Array<{ path: PropertyKey[]; message: string }>> }): string {
  const input = iss.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return `must be ${PARAM_FORMS}`;
  const keys = Object.keys(input);
  const form = 'values' in input ? 1 : ['min', 'max', 'step'].some((k) => k in input) ? 0 : -1;
  const issues = form < 0 ? undefined : iss.errors?.[form];
  if (!issues?.length) return `must be ${PARAM_FORMS}; got ${keys.length ? `the keys ${keys.join(', ')}` : 'an empty object'}`;
  const detail = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  return `${form === 0 ? 'a range {min, max, step}' : 'a list {values: [...]}'}: ${detail}`;
}

export const ParamSpec = z.union([RangeParam, ChoiceParam], { error: (iss) => (iss.code === 'invalid_union' ? paramSpecError(iss as never) : undefined) });
export type ParamSpec = z.infer<typeof ParamSpec>;

/** A dotted path into the controller config: `bb_length`, `trailing_stop.activation_price`. */
const PARAM_PATH = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,3}$/;

export const ParamSpace = z
  .record(z.string().regex(PARAM_PATH, 'must be a config field path like bb_length or trailing_stop.activation_price'), ParamSpec)
  .refine((s) => Object.keys(s).length >= 1 && Object.keys(s).length <= 20, { message: 'give 1 to 20 parameters' })
  .describe('Per controller config field (dotted path for nested fields): a range {min, max, step} or a list {values}.');

const RandomState = z.number().int().min(0).max(2 ** 32 - 1);

const GridSearch = z.strictObject({ method: z.literal('grid') });
const RandomSearch = z.strictObject({
  method: z.literal('random'),
  n: z.number().int().min(1).max(MAX_TRIALS).describe('Distinct points drawn from the space.'),
  // Not named "seed": a job's stored input hides every field whose name looks like a secret, a wallet seed included.
  random_state: RandomState.default(1).describe('Seed of the draw: the same random_state draws the same points.'),
});

export const Candidates = z.discriminatedUnion('method', [GridSearch, RandomSearch]);
export type Candidates = z.infer<typeof Candidates>;

export const Search = z
  .discriminatedUnion('method', [
    GridSearch,
    RandomSearch,
    z.strictObject({
      method: z.literal('walk_forward'),
      windows: z.number().int().min(1).max(20).describe('Out-of-sample segments scored, one after another.'),
      in_sample_segments: z.number().int().min(1).max(20).default(3).describe('Segments each window fits on, just before its out-of-sample segment.'),
      candidates: Candidates.default({ method: 'grid' }).describe('The points tried on each in-sample segment.'),
    }),
  ])
  .describe('grid: every point; random: n distinct points; walk_forward: the range cut into in_sample_segments + windows equal segments, each window fit on its in-sample segments and its winner scored on the next one.');
export type Search = z.infer<typeof Search>;

export const Objective = z.strictObject({
  metric: z.enum(METRIC_NAMES),
  direction: z.enum(['maximize', 'minimize']).default('maximize'),
});
export type Objective = z.infer<typeof Objective>;

export const Constraint = z.strictObject({
  metric: z.enum(METRIC_NAMES),
  op: z.enum(['lte', 'gte']).describe('lte: metric ≤ value; gte: metric ≥ value. A null metric fails.'),
  value: Num,
});
export type Constraint = z.infer<typeof Constraint>;

export const OptimizationFields = z.strictObject({
  backtest: BacktestSpecFields.describe('The base backtest; its controller.config holds the values of the fields the space leaves alone.'),
  space: ParamSpace,
  search: Search.default({ method: 'grid' }),
  objective: Objective,
  constraints: z.array(Constraint).max(20).default([]),
  max_trials: z.number().int().min(1).max(MAX_TRIALS).default(MAX_TRIALS).describe(`Refuse the run when the search has more trials than this (at most ${MAX_TRIALS}).`),
  top_n: z.number().int().min(1).max(MAX_TOP_N).default(20).describe('Trials kept in the leaderboard.'),
});
export type OptimizationSpec = z.infer<typeof OptimizationFields>;

/** A metric as a number for ranking: quote totals are decimal strings in BacktestMetrics. */
export function metricValue(m: BacktestMetrics, name: MetricName): number | null {
  const v = m[name];
  if (v === null || v === undefined) return null;
  const n = typeof v === 'string' ? Number(v) : v;
  return Number.isFinite(n) ? n : null;
}

export function meetsConstraints(m: BacktestMetrics, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) {
    const v = metricValue(m, c.metric);
    if (v === null || (c.op === 'lte' ? v > c.value : v < c.value)) return false;
  }
  return true;
}
