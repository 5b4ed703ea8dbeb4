import type { ControllerDefinition } from '../strategy/controller.js';
import { createExecutor } from '../strategy/executors/registry.js';
import { runBacktest } from '../backtest/engine.js';
import type { BacktestMetrics } from '../backtest/metrics.js';
import type { BacktestTaskInput } from './backtest-task.js';

/**
 * A batch of optimization trials as one pool task: the base spec, the candle columns (on shared memory,
 * so every worker reads the one copy the job loaded) and, per trial, the controller config and range it
 * runs. Only each trial's metrics come back; the rest of a backtest result stays in the worker.
 */
export interface TrialRun {
  trial: number;
  config: Record<string, unknown>;
  start: number;
  end: number;
}

export interface TrialsTaskInput extends BacktestTaskInput {
  trials: TrialRun[];
}

export interface TrialDone {
  trial: number;
  metrics: BacktestMetrics;
}

/**
 * A trial reads only its metrics, which count every executor and fill whether listed or not: listing
 * none keeps thousands of fills per trial from being held (and copied by the garbage collector) until
 * the trial ends.
 */
const METRICS_ONLY = { executors: 0, fills: 0 };

/** Runs the trials in order, posting each one's metrics as it ends (what a cancel keeps). */
export function runTrialsTask(input: TrialsTaskInput, controllers: (name: string) => ControllerDefinition | undefined, onTrial: (done: TrialDone) => void): TrialDone[] {
  const out: TrialDone[] = [];
  for (const t of input.trials) {
    const spec = { ...input.spec, controller: { name: input.spec.controller.name, config: t.config }, start: t.start, end: t.end };
    const { metrics } = runBacktest(spec, input.columns, null, { controller: controllers, createExecutor, market: input.market, limits: METRICS_ONLY });
    const done = { trial: t.trial, metrics };
    onTrial(done);
    out.push(done);
  }
  return out;
}
