import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { SHIPPED_CONTROLLERS } from '../strategy/controllers/index.js';
import type { ControllerDefinition } from '../strategy/controller.js';
import { type BacktestTaskInput, runBacktestTask } from './backtest-task.js';
import { runTrialsTask, type TrialDone, type TrialsTaskInput } from './trials-task.js';
import { type StoredBacktest, storedBacktest } from '../backtest/stored-result.js';
import { moduleDefinitions } from '../strategy-catalog/operator-modules.js';
import { crossingError } from './task-errors.js';

/**
 * The tasks a strategy pool worker runs, by name (piscina calls the named export). Each receives the
 * task input and a port for progress messages; what it returns is the task's result.
 */
export interface WorkerTask<T> {
  input: T;
  port: MessagePort;
}

export interface BacktestWorkerInput extends BacktestTaskInput {
  /** File URL of the operator's module defining the controller, when it is not a shipped one. */
  controllerModule?: string;
}

const shipped = new Map<string, ControllerDefinition>(SHIPPED_CONTROLLERS.map((d) => [d.name, d]));

/**
 * Runs a backtest and hands back its stored form: serialised and digested here, in the worker, so the
 * main thread never walks a result of megabytes (it writes the JSON text as it is).
 */
export async function backtest({ input, port }: WorkerTask<BacktestWorkerInput>): Promise<StoredBacktest> {
  try {
    const controllers = await controllersFor(input.controllerModule);
    const result = runBacktestTask(input, (name) => controllers.get(name), (p) => port.postMessage(p));
    // Hashed as bytes: update() with a 10 MB string costs about four times encoding it first.
    return storedBacktest(result, (text) => createHash('sha256').update(Buffer.from(text)).digest('hex'), input.market.market_type);
  } catch (err) {
    throw crossingError(err, modulePath(input.controllerModule));
  }
}

export interface TrialsWorkerInput extends TrialsTaskInput {
  controllerModule?: string;
}

/** Runs a batch of optimization trials, posting each trial's metrics as it ends. */
export async function trials({ input, port }: WorkerTask<TrialsWorkerInput>): Promise<TrialDone[]> {
  try {
    const controllers = await controllersFor(input.controllerModule);
    return runTrialsTask(input, (name) => controllers.get(name), (done) => port.postMessage(done));
  } catch (err) {
    throw crossingError(err, modulePath(input.controllerModule));
  }
}

/** An operator module's file, as its log line at start names it. */
const modulePath = (url: string | undefined) => (url === undefined ? undefined : fileURLToPath(url));

async function controllersFor(moduleUrl: string | undefined): Promise<Map<string, ControllerDefinition>> {
  const controllers = new Map(shipped);
  if (moduleUrl) {
    // Read as the catalog read it at start: the default export, a definition, a list or a function of the kit.
    const mod = (await import(moduleUrl)) as { default?: unknown };
    for (const value of (await moduleDefinitions(mod)) ?? []) {
      const def = value as ControllerDefinition;
      if (def && typeof def === 'object' && typeof def.name === 'string' && typeof def.create === 'function') controllers.set(def.name, def);
    }
  }
  return controllers;
}
