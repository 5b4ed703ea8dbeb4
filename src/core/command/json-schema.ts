import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * The single place where zod schemas become JSON Schema (for OpenAPI, MCP tool listings and the
 * schema snapshots). Zod 4 converts natively; zod-to-json-schema would emit empty schemas for it.
 * `io: 'input'` describes what a caller may send (defaults optional, pre-transform types),
 * `io: 'output'` what we send back.
 */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}
