import type { z } from 'zod';
import { AppError } from '../errors.js';

/**
 * A config's schema issues with their paths as dotted text ('' for the config itself); a key the schema
 * does not know is an issue at that key's own path, so that the path names what to remove.
 */
export function configIssues(issues: ReadonlyArray<{ code?: string; path: PropertyKey[]; message: string; keys?: string[] }>): Array<{ path: string; message: string }> {
  return issues.flatMap((i) => {
    const at = i.path.map(String);
    if (i.code === 'unrecognized_keys' && i.keys?.length) return i.keys.map((k) => ({ path: [...at, k].join('.'), message: 'not a field of this config' }));
    return [{ path: at.join('.'), message: i.message }];
  });
}

/** Parses a controller's or a script's config: the parsed value, or VALIDATION_FAILED with every issue's field path. */
export function parseStrategyConfig(def: { name: string; config: z.ZodType }, config: unknown): unknown {
  const parsed = def.config.safeParse(config);
  if (!parsed.success) {
    const issues = configIssues(parsed.error.issues).map((i) => ({ path: i.path || '(root)', message: i.message }));
    throw new AppError('VALIDATION_FAILED', `Invalid ${def.name} config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: { issues },
    });
  }
  return parsed.data;
}
