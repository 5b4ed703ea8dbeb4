import type { z } from 'zod';
import { redactValue } from '../secrets/redact.js';
import { setOwn } from './storable.js';

/** At most this many unknown field names are kept, each cut to NAME_MAX characters. */
const MAX_UNKNOWN = 50;
const NAME_MAX = 100;

/**
 * What the journal keeps of an input that was not accepted by the command's schema (a validation
 * failure, or a refusal before parsing): the fields the schema knows, redacted, and only the NAMES of
 * the fields it does not know. A secret sent under a misspelled field ("secrte", "api_kee") is exactly
 * such an unknown field, and its value must never reach the journal.
 *
 * Where a known field holds a structure its schema does not expect (an object where a string goes),
 * only the structure's kind is kept, for the same reason.
 */
export function journalInput(schema: z.ZodType | undefined, raw: unknown): unknown {
  if (raw === undefined || raw === null) return raw ?? null;
  if (typeof raw !== 'object' || Array.isArray(raw)) return { input_type: Array.isArray(raw) ? 'array' : typeof raw };
  const unknown: string[] = [];
  const known = schema ? keep(schema, raw, [], unknown, 0) : undefined;
  if (!schema) for (const k of Object.keys(raw)) unknown.push(k);
  const out: Record<string, unknown> = known && typeof known === 'object' && !Array.isArray(known) ? { ...(redactValue(known) as object) } : {};
  if (unknown.length) out.unknown_fields = unknown.slice(0, MAX_UNKNOWN).map((n) => (n.length > NAME_MAX ? `${n.slice(0, NAME_MAX)}…` : n));
  return out;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[]; element?: z.ZodType; keyType?: z.ZodType; valueType?: z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

/** Wrappers that do not change what a value's shape should be. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'nullable' || d.type === 'default' || d.type === 'prefault' || d.type === 'readonly' || d.type === 'catch') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

function kindOf(v: unknown): 'object' | 'array' | 'scalar' {
  return Array.isArray(v) ? 'array' : v !== null && typeof v === 'object' ? 'object' : 'scalar';
}

function schemaKind(schema: z.ZodType): 'object' | 'array' | 'scalar' {
  const t = defOf(unwrap(schema)).type;
  return t === 'object' || t === 'record' ? 'object' : t === 'array' ? 'array' : 'scalar';
}

function keep(schema: z.ZodType, value: unknown, path: string[], unknown: string[], depth: number): unknown {
  if (depth > 16) return '[depth]';
  let s = unwrap(schema);
  let d = defOf(s);
  if (d.type === 'union' && d.options) {
    // The option whose shape matches the value; a scalar where every option wants a structure is kept as is.
    const match = d.options.find((o) => schemaKind(o) === kindOf(value));
    if (!match) return kindOf(value) === 'scalar' ? value : `[${kindOf(value)}]`;
    s = unwrap(match);
    d = defOf(s);
  }
  const want = d.type === 'object' || d.type === 'record' ? 'object' : d.type === 'array' ? 'array' : d.type === 'any' || d.type === 'unknown' ? kindOf(value) : 'scalar';
  if (kindOf(value) !== want) return kindOf(value) === 'scalar' ? value : `[${kindOf(value)}]`;
  if (want === 'scalar') return value;
  if (d.type === 'array' && d.element) return (value as unknown[]).map((v, i) => keep(d.element!, v, [...path, String(i)], unknown, depth + 1));
  if (d.type === 'unknown' || d.type === 'any') return '[structure]';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
    const field = d.type === 'object' ? (d.shape && Object.hasOwn(d.shape, k) ? d.shape[k] : undefined) : d.keyType && d.keyType.safeParse(k).success ? d.valueType : undefined;
    if (field) setOwn(out, k, keep(field, v, [...path, k], unknown, depth + 1));
    else unknown.push([...path, k].join('.'));
  }
  return out;
}
