import type { z } from 'zod';
import type { Decimal } from '../decimal.js';
import type { DataNeeds, MarketView, OrderRequest, OrderUpdate } from './types.js';

/**
 * A script: a one-file strategy that places orders itself, for jobs too simple for a controller and its
 * executors (buy an amount over time, hold target weights). Like a controller it is plain code with a zod
 * config; it reads time, prices and balances only from the view it is handed and returns what it wants
 * done, so a bot, a paper run and a test drive it the same way.
 *
 * The runtime's contract, per instance:
 * 1. `create(config, saved?)` once (with `saved` = a previous `state()` when resuming after a restart);
 * 2. every `stepSeconds(config)` seconds: `step(view)`, then it carries out the returned actions in order
 *    (each `place` through its order path, where every guardrail applies);
 * 3. whenever an order the script placed changes: `onOrderUpdate(update)` (cumulative, as OrderUpdate says);
 * 4. after each step and update it may persist `state()` (plain JSON).
 * A script ends when `done()` is true; the runtime then stops stepping it.
 */
export interface ScriptDefinition<S extends z.ZodType = z.ZodType> {
  /** Unique, snake_case with a version suffix (`twap_buyer_v1`). */
  name: string;
  /** One paragraph for a person or a model choosing a script. */
  description: string;
  config: S;
  /** Fields an example config sets where the schema has no default (the catalog shows the example, defaults filled in). */
  example?: Record<string, unknown>;
  /** The market data one instance needs, from its parsed config. */
  data(config: z.infer<S>): DataNeeds;
  /** Seconds between two steps. */
  stepSeconds(config: z.infer<S>): number;
  create(config: z.infer<S>, saved?: Record<string, unknown>): ScriptInstance;
}

/** What a script sees at each step: time, market data, the balances of the account it trades. */
export interface ScriptView {
  readonly now: number;
  readonly market: MarketView;
  /** Total holdings (free and locked) per asset on one connector; an asset not held is absent or zero. */
  balances(connector: string): Readonly<Record<string, Decimal>>;
  /** A fresh client order id, unique and deterministic within a run. */
  newOrderId(): string;
}

export type ScriptAction =
  | { kind: 'place'; order: OrderRequest }
  | { kind: 'cancel'; connector: string; tradingPair: string; clientOrderId: string };

export interface ScriptInstance {
  step(view: ScriptView): ScriptAction[];
  onOrderUpdate(update: OrderUpdate): void;
  /** True once the script has nothing left to do. */
  done(): boolean;
  /** Plain JSON from which `create(config, saved)` rebuilds this instance exactly. */
  state(): Record<string, unknown>;
}

/** A typed identity, so a module's config type flows into data/stepSeconds/create. */
export function defineScript<S extends z.ZodType>(def: ScriptDefinition<S>): ScriptDefinition<S> {
  return def;
}
