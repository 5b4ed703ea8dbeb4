import type { ControllerType } from '../strategy/types.js';
import { toJsonSchema } from '../command/json-schema.js';

export const CONTROLLER_TYPES = ['directional_trading', 'market_making', 'generic'] as const satisfies readonly ControllerType[];

/** Names share the URL space of their routes: `/controllers/configs` is a route, not a controller. */
export const STRATEGY_NAME_RE = /^[a-z][a-z0-9_]{1,62}$/;
const RESERVED = new Set(['configs']);

/**
 * Why `value` is not a usable controller (or script) definition: one line per problem, empty when it
 * is. Operator modules are checked with this at load, so a broken one is named in the log and skipped
 * instead of failing a request later.
 */
export function controllerProblems(value: unknown): string[] {
  const problems = commonProblems(value);
  if (problems.length && !isObject(value)) return problems;
  const v = value as Record<string, unknown>;
  if (!(CONTROLLER_TYPES as readonly unknown[]).includes(v.type)) problems.push(`type must be one of ${CONTROLLER_TYPES.join(', ')}`);
  for (const fn of ['data', 'warmupBars', 'create']) if (typeof v[fn] !== 'function') problems.push(`${fn} must be a function`);
  return problems;
}

export function scriptProblems(value: unknown): string[] {
  const problems = commonProblems(value);
  if (problems.length && !isObject(value)) return problems;
  const v = value as Record<string, unknown>;
  for (const fn of ['data', 'stepSeconds', 'create']) if (typeof v[fn] !== 'function') problems.push(`${fn} must be a function`);
  return problems;
}

function commonProblems(value: unknown): string[] {
  if (!isObject(value)) return ['not an object'];
  const problems: string[] = [];
  const { name, description, config } = value;
  if (typeof name !== 'string' || !STRATEGY_NAME_RE.test(name)) problems.push('name must be snake_case: a lowercase letter, then 1 to 62 lowercase letters, digits or "_"');
  else if (RESERVED.has(name)) problems.push(`name "${name}" is reserved`);
  if (typeof description !== 'string' || description.trim().length === 0 || description.length > 2000) problems.push('description must be a non-empty string of at most 2000 characters');
  if (!isZodSchema(config)) problems.push('config must be a zod 4 schema (use the z handed to a module that exports a function)');
  else {
    try {
      toJsonSchema(config as never, 'input');
    } catch (err) {
      problems.push(`config cannot be described as JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

/** A zod 4 schema from any copy of zod: what toJSONSchema and safeParse need. */
function isZodSchema(v: unknown): boolean {
  return isObject(v) && typeof v.safeParse === 'function' && isObject(v._zod);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

