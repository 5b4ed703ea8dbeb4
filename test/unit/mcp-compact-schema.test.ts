import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toJsonSchema } from '../../src/core/command/index.js';
import { QueryBool, QueryInt, QueryList, TimeIn, DecimalIn, AccountName } from '../../src/core/schema.js';
import { compactSchema } from '../../src/mcp/compact-schema.js';

/** The compact schemas of the MCP listing: smaller, never stricter than what the server accepts. */
const validator = new AjvJsonSchemaValidator();
const valid = (schema: object, v: unknown) => validator.getValidator(schema as never)(v).valid;

describe('compact input schemas', () => {
  const input = z.strictObject({
    account_name: AccountName.optional().describe('Only this account.'),
    limit: QueryInt(1, 1000).optional().describe('Items per page.'),
    flag: QueryBool.optional().describe('A flag.'),
    names: QueryList(AccountName).optional().describe('Only these.'),
    since: TimeIn.optional().describe('From this time.'),
    amount: DecimalIn.describe('An amount.'),
    side: z.enum(['buy', 'sell']),
    plain: z.string().regex(/^[a-z]{1,8}$/),
  });
  const full = toJsonSchema(input, 'input');
  const small = compactSchema(full, 'input') as any;

  it('drops the query-string spellings and merges plain alternatives', () => {
    expect(small.properties.limit).toEqual({ description: 'Items per page.', type: 'integer', minimum: 1, maximum: 1000 });
    expect(small.properties.flag).toEqual({ description: 'A flag.', type: 'boolean' });
    expect(small.properties.names).toEqual({ description: 'Only these.', type: 'array', items: { type: 'string' } });
    expect(small.properties.since).toEqual({ description: 'From this time.', type: ['integer', 'string'] });
    expect(small.properties.amount).toEqual({ description: 'An amount.', type: ['number', 'string'] });
    // A described string loses its alphabet; an undescribed one keeps it.
    expect(small.properties.account_name).toEqual({ description: 'Only this account.', type: 'string' });
    expect(small.properties.plain.pattern).toBe('^[a-z]{1,8}$');
    expect(small.required).toEqual(full.required);
    expect(small.additionalProperties).toBe(false);
    expect(JSON.stringify(small).length).toBeLessThan(JSON.stringify(full).length * 0.7);
  });

  it('accepts every call the full schema accepts that a model would send', () => {
    const calls = [
      { amount: 1, side: 'buy', plain: 'abc' },
      { amount: '0.001', side: 'sell', plain: 'a', limit: 20, flag: true, names: ['a_1'], since: 0, account_name: 'x' },
      { amount: 1, side: 'buy', plain: 'abc', since: '2026-01-01T00:00:00Z' },
    ];
    for (const c of calls) {
      expect(valid(full, c), JSON.stringify(c)).toBe(true);
      expect(valid(small, c), JSON.stringify(c)).toBe(true);
    }
    // Still refused: a wrong type, an unknown field, a missing required field.
    expect(valid(small, { amount: true, side: 'buy', plain: 'a' })).toBe(false);
    expect(valid(small, { amount: 1, side: 'buy', plain: 'a', zz: 1 })).toBe(false);
    expect(valid(small, { side: 'buy', plain: 'a' })).toBe(false);
  });
});

describe('compact output schemas', () => {
  const output = z.object({
    id: z.number().int(),
    mode: z.enum(['paper', 'live']).nullable().describe('The mode.'),
    items: z.array(z.object({ name: z.string(), value: z.number().nullable().describe('Its value.') })),
    plain: z.object({ a: z.string(), b: z.number().int().nullable() }),
  });
  const full = toJsonSchema(output, 'output');
  const small = compactSchema(full, 'output') as any;

  it('keeps the documented fields, with their types, enums and descriptions', () => {
    expect(small).toEqual({
      type: 'object',
      properties: {
        mode: { type: ['string', 'null'], description: 'The mode.', enum: ['paper', 'live', null] },
        items: { type: 'array', items: { type: 'object', properties: { value: { type: ['number', 'null'], description: 'Its value.' } } } },
      },
    });
  });

  it('accepts what the full schema accepts, and still checks the documented fields', () => {
    const ok = { id: 1, mode: null, items: [{ name: 'n', value: 2 }], plain: { a: 'x', b: null } };
    expect(valid(full, ok)).toBe(true);
    expect(valid(small, ok)).toBe(true);
    expect(valid(small, { ...ok, mode: 'live' })).toBe(true);
    expect(valid(small, { ...ok, mode: 'other' })).toBe(false);
    expect(valid(small, { ...ok, items: [{ value: 'not a number' }] })).toBe(false);
  });
});
