import type { JsonSchema } from '../core/command/index.js';

/**
 * The JSON Schemas a model reads in `tools/list`, without the weight that tells it nothing. Every tool
 * listing is read on every conversation, so its size is paid again and again; OpenAPI keeps the full
 * schemas (src/core/command/json-schema.ts).
 *
 * Each rewrite keeps what a valid call or result looks like:
 *   - the bounds zod puts on every integer (±2^53-1) go;
 *   - `anyOf: [X, {type: null}]` becomes X with `null` added to its type (and to its enum);
 *   - two string enums offered as alternatives become one enum;
 *   - an array item repeats no description its list already has.
 * Inputs also lose the string forms that exist for query strings (`"20"` for 20, `"true"` for true, a
 * comma-separated list for an array): a model sends JSON types, and the server still accepts both.
 * Plain alternatives become a list of types (a decimal: a number or a numeric string), and a described
 * string loses its pattern and lengths. The listing may so be looser than what the server accepts,
 * never stricter: the server checks every call in full and names the field and the rule it breaks.
 * Outputs keep only their documented fields (see documentedOnly).
 */
export function compactSchema(schema: JsonSchema, io: 'input' | 'output'): JsonSchema {
  const small = compact(schema, io) as JsonSchema;
  return io === 'output' ? { type: 'object', ...documentedOnly(small) } : small;
}

/**
 * An output schema reduced to its documented fields: a field stays when it has a description or holds
 * one that has, with its type, enum and description; the rest is left out, and objects are left open.
 * A model learns a result's shape from the result itself; what it cannot see there is what a field
 * means, and that is what stays. Clients still check the documented fields' types. The complete output
 * contract is the REST one, in /openapi.json, and the server checks every result against it.
 */
function documentedOnly(s: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let documented = typeof s.description === 'string';
  if (isObj(s.properties)) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.properties)) {
      const d = isObj(v) ? documentedOnly(v) : undefined;
      if (d) props[k] = d;
    }
    if (Object.keys(props).length) {
      out.properties = props;
      documented = true;
    }
  }
  if (isObj(s.items)) {
    const d = documentedOnly(s.items);
    if (d) {
      out.items = d;
      documented = true;
    }
  }
  if (!documented) return undefined;
  // A union keeps no type of its own here: its branches are not listed.
  const kept: Record<string, unknown> = {};
  if (s.type !== undefined && s.anyOf === undefined) kept.type = s.type;
  if (typeof s.description === 'string') kept.description = s.description;
  if (Array.isArray(s.enum)) kept.enum = s.enum;
  return { ...kept, ...out };
}

const SAFE = Number.MAX_SAFE_INTEGER;

function compact(node: unknown, io: 'input' | 'output'): unknown {
  if (Array.isArray(node)) return node.map((x) => compact(x, io));
  if (!node || typeof node !== 'object') return node;
  let s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    // `properties` maps names to schemas: its keys are field names, never keywords.
    s[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, x]) => [p, compact(x, io)])) : compact(v, io);
  }
  // A described string's alphabet and length: its description shows the format by example, and a call
  // that breaks the rule gets the field's path and the rule back. Only undescribed fields keep them.
  if (io === 'input' && s.type === 'string' && typeof s.description === 'string') {
    delete s.pattern;
    delete s.minLength;
    delete s.maxLength;
  }
  if (io === 'input' && s.minLength === 1) delete s.minLength;
  if (s.minimum === -SAFE) delete s.minimum;
  if (s.maximum === SAFE) delete s.maximum;
  if (Array.isArray(s.anyOf)) s = simplifyAnyOf(s, io);
  if (isObj(s.items) && typeof s.description === 'string' && typeof s.items.description === 'string') s.items = withoutDescription(s.items);
  return s;
}

function simplifyAnyOf(s: Record<string, unknown>, io: 'input' | 'output'): Record<string, unknown> {
  let alts = (s.anyOf as unknown[]).filter(isObj);
  if (alts.length !== (s.anyOf as unknown[]).length) return s;
  if (io === 'input' && alts.some((a) => a.type !== 'string')) alts = alts.filter((a) => !isQueryStringForm(a, alts));
  const strEnums = alts.filter((a) => a.type === 'string' && Array.isArray(a.enum) && Object.keys(a).every((k) => k === 'type' || k === 'enum'));
  if (strEnums.length > 1) {
    const merged = { type: 'string', enum: strEnums.flatMap((a) => a.enum as unknown[]) };
    alts = [merged, ...alts.filter((a) => !strEnums.includes(a))];
  }
  const { anyOf: _drop, ...rest } = s;
  if (alts.length === 1) return { ...rest, ...alts[0] };
  // Plain alternatives (a time as epoch ms or as text) are one list of types.
  if (io === 'input' && alts.every(isPlainType)) return { ...rest, type: alts.map((a) => a.type) };
  const nullAt = alts.findIndex((a) => a.type === 'null' && Object.keys(a).length === 1);
  if (alts.length === 2 && nullAt >= 0) {
    const other = alts[1 - nullAt]!;
    if (typeof other.type === 'string' && other.anyOf === undefined) {
      return { ...rest, ...other, type: [other.type, 'null'], ...(Array.isArray(other.enum) ? { enum: [...other.enum, null] } : {}) };
    }
  }
  return { ...rest, anyOf: alts };
}

/**
 * An alternative that is only a type and its bounds (epoch ms from 0 to year 9999, a time string of
 * bounded length): merged into a list of types, the bounds go, which makes the listing looser, never stricter.
 */
const PLAIN_KEYS = new Set(['type', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern']);
const isPlainType = (a: Record<string, unknown>) => typeof a.type === 'string' && Object.keys(a).every((k) => PLAIN_KEYS.has(k));

/** A string alternative that only spells a non-string alternative for a query string. */
function isQueryStringForm(a: Record<string, unknown>, alts: Record<string, unknown>[]): boolean {
  if (a.type !== 'string') return false;
  const has = (t: string) => alts.some((x) => x.type === t);
  if (has('integer') && a.pattern === '^-?\\d+$') return true;
  if (has('boolean') && Array.isArray(a.enum) && a.enum.every((v) => ['true', 'false', '1', '0'].includes(v as string))) return true;
  // A comma-separated list beside the array itself.
  return has('array') && Object.keys(a).length === 1;
}

function withoutDescription(s: Record<string, unknown>): Record<string, unknown> {
  const { description: _drop, ...rest } = s;
  return rest;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
