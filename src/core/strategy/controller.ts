import type { z } from 'zod';
import type { ControllerInstance, ControllerType, DataNeeds } from './types.js';

/**
 * A controller module: a typed strategy that turns market data into executor actions. The shipped ones
 * live in `strategy/controllers/`; an operator adds their own as modules in the controllers folder the
 * server loads at start (trusted code from the operator's disk, validated at load, never uploaded).
 */
export interface ControllerDefinition<S extends z.ZodType = z.ZodType> {
  /** Unique, snake_case with a version suffix (`bollinger_v1`). */
  name: string;
  type: ControllerType;
  /** One paragraph for a person or a model choosing a strategy. */
  description: string;
  /** The config: every field with a default where one makes sense and a description. */
  config: S;
  /** Fields an example config sets where the schema has no default (the catalog shows the example, defaults filled in). */
  example?: Record<string, unknown>;
  /** The market data one instance needs, from its parsed config. */
  data(config: z.infer<S>): DataNeeds;
  /** Closed candles of history the first decision needs (indicator warm-up). */
  warmupBars(config: z.infer<S>): number;
  create(config: z.infer<S>): ControllerInstance;
}

/** A typed identity, so a module's config type flows into data/warmupBars/create. */
export function defineController<S extends z.ZodType>(def: ControllerDefinition<S>): ControllerDefinition<S> {
  return def;
}
