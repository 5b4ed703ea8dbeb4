import type { z } from 'zod';

/**
 * "Did you mean" for an unrecognized key: a caller (often a model) that writes `wait` for
 * `wait_seconds` or `trading_par` for `trading_pair` is told the key it most likely meant, found among
 * the keys the object at that path accepts.
 */

type Def = { type?: string; innerType?: unknown; in?: unknown; element?: unknown; valueType?: unknown; shape?: Record<string, unknown> };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Through the wrappers that do not change what keys an object takes (optional, default, pipe…). */
function unwrap(s: unknown): unknown {
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if (!d) return s;
    if (d.innerType !== undefined) s = d.innerType;
    else if (d.type === 'pipe' && d.in !== undefined) s = d.in;
    else return s;
  }
  return s;
}

/** The keys of the object schema at `path` in `schema`, or null when the path does not lead to one object. */
export function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] | null {
  let s: unknown = schema;
  for (const seg of path) {
    s = unwrap(s);
    const d = defOf(s);
    if (d?.type === 'object' && typeof seg === 'string') s = d.shape?.[seg];
    else if (d?.type === 'array' && typeof seg === 'number') s = d.element;
    else if (d?.type === 'record' && typeof seg === 'string') s = d.valueType;
    else return null;
    if (s === undefined) return null;
  }
  const d = defOf(unwrap(s));
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * The known key `given` most likely meant: the one it starts (or that starts it), else the nearest
 * within two edits; none when two are equally likely.
 */
export function closestKey(given: string, known: readonly string[]): string | null {
  const g = given.toLowerCase();
  if (g.length < 3) return null;
  const prefixed = known.filter((k) => k.startsWith(g) || g.startsWith(k));
  if (prefixed.length > 0) return prefixed.length === 1 ? prefixed[0]! : null;
  let best: string | null = null;
  let bestD = 3;
  let tied = false;
  for (const k of known) {
    const d = editDistance(g, k);
    if (d < bestD) [best, bestD, tied] = [k, d, false];
    else if (d === bestD) tied = true;
  }
  return tied ? null : best;
}

/** The message of an unrecognized-keys issue, with the keys meant where they can be told. */
export function withKeyHints(schema: z.ZodType, issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const known = knownKeysAt(schema, issue.path);
  if (!known) return issue.message;
  const hints = issue.keys.map((k) => [k, closestKey(k, known)] as const).filter(([, m]) => m !== null);
  if (hints.length === 0) return issue.message;
  return `${issue.message} (did you mean ${hints.map(([k, m]) => (issue.keys.length > 1 ? `${m} for ${k}` : m)).join(', ')}?)`;
}
