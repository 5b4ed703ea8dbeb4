import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { channelsOf, type AnyCommand, toJsonSchema } from '../../src/core/command/index.js';
import { AppError } from '../../src/core/errors.js';
import { isSecretKey, MASK, registerSecret } from '../../src/core/secrets/redact.js';
import { mayNeedRedaction, NOT_SECRET_FIELDS, redactForModel } from '../../src/mcp/redact-output.js';
import { toolError, toolResult } from '../../src/mcp/tool-output.js';
import { allCommands } from '../../src/tools/index.js';

// Registered once for this file (the registry of known secrets is process-wide and only grows).
const VAULT_SECRET = 'vault-secret-5f2b9c1e7a';
const QUOTED_SECRET = 'pass"phrase\\with-escapes';
registerSecret(VAULT_SECRET);
registerSecret(QUOTED_SECRET);

const everything = (r: CallToolResult) => JSON.stringify(r);
const validator = new AjvJsonSchemaValidator();
/** The complete output schema, which the server checks every result against (the listing shows its documented part). */
const fullOutputSchema = (cmd: AnyCommand) => toJsonSchema(cmd.output, 'output');
const command = (name: string) => allCommands.find((c) => c.name === name) as AnyCommand;
const schemaCheck = (name: string, value: unknown) => validator.getValidator(fullOutputSchema(command(name)) as never)(value);

describe('registered secret values', () => {
  it('are masked in a success result: text and structuredContent', () => {
    const out = { connector_name: 'sim', trading_pair: 'BTC-USDT', note: `key ${VAULT_SECRET} leaked`, nested: [{ x: VAULT_SECRET }] };
    const r = toolResult(out);
    expect(everything(r)).not.toContain(VAULT_SECRET);
    expect((r.structuredContent as any).note).toBe(`key ${MASK} leaked`);
    expect((r.structuredContent as any).nested[0].x).toBe(MASK);
    expect(JSON.parse((r.content[0] as { text: string }).text)).toEqual(r.structuredContent);
  });

  it('are masked even when JSON escaping changes how they are written', () => {
    const r = toolResult({ note: `value ${QUOTED_SECRET}` });
    expect((r.structuredContent as any).note).toBe(`value ${MASK}`);
    expect(everything(r)).not.toContain(JSON.stringify(QUOTED_SECRET).slice(1, -1));
  });

  it('are masked in an error: message, hint, details, and a fenced upstream text', () => {
    const err = new AppError('UPSTREAM_REJECTED', `binance refused ${VAULT_SECRET}`, {
      hint: `not ${VAULT_SECRET}`,
      details: { exchange: 'binance', upstream_message: `signature for apiKey=${VAULT_SECRET} is invalid`, other: [VAULT_SECRET] },
    });
    const r = toolError(err, 'req');
    expect(everything(r)).not.toContain(VAULT_SECRET);
    const fence = (r.content[1] as { text: string }).text;
    expect(fence).toContain(`signature for apiKey=${MASK} is invalid`);
  });
});

describe('secret-looking field names', () => {
  it('in an error, the whole value is masked, whatever its type', () => {
    const err = new AppError('VALIDATION_FAILED', 'bad', { details: { credentials: { api_key: 'k', nested: { n: 1 } }, password: 12345, token: null, plain: 'kept' } });
    const body = JSON.parse((toolError(err, 'r').content[0] as { text: string }).text);
    expect(body.error.details).toEqual({ credentials: MASK, password: MASK, token: null, plain: 'kept' });
  });

  it('in a success result, only strings are masked, so the output schema still holds', () => {
    const out = {
      data: [
        {
          account_name: 'live',
          connectors: [{ connector_name: 'binance', credentials: { api_key: 'abc***xyz', secret: 'sec***ret' } }],
          created_at: '2024-01-01T00:00:00.000Z',
          updated_at: '2024-01-01T00:00:00.000Z',
        },
      ],
    };
    const masked = redactForModel(out, 'result');
    expect(masked.data[0]!.connectors[0]!.credentials).toEqual({ api_key: MASK, secret: MASK });
    expect(redactForModel({ password_set: true, token_count: 3 }, 'result')).toEqual({ password_set: true, token_count: 3 });
  });

  it('leaves the fields that only look secret: a confirmation token must reach the model intact', () => {
    const out = { confirmation_token: 'tok.abc.def', token_expires_at: '2024-01-01T00:01:00.000Z', requires_credentials: true, credential_fields: ['api_key', 'secret'] };
    expect(redactForModel(out, 'result')).toEqual(out);
    expect(redactForModel(out, 'error')).toEqual(out);
  });

  it('a connector description keeps its credential field names and its flag', () => {
    const out = { name: 'binance', kind: 'exchange', requires_credentials: true, credential_fields: ['api_key', 'secret'] };
    const r = toolResult(out);
    expect(r.structuredContent).toMatchObject(out);
  });
});

describe('cost', () => {
  it('a large result without secrets or secret-looking fields is not walked (the same object goes out)', () => {
    const candles = Array.from({ length: 500 }, (_, i) => ({ timestamp: i, time: new Date(i).toISOString(), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }));
    const out = { connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1m', candles, direction: 'backward', truncated: false, next_start_time: null, previous_end_time: null };
    expect(mayNeedRedaction(JSON.stringify(out))).toBe(false);
    expect(toolResult(out).structuredContent).toBe(out);
    expect(schemaCheck('market_data_get_candles', out)).toMatchObject({ valid: true });
  });

  it('a registered secret, or a backslash that may hide one, triggers the walk', () => {
    expect(mayNeedRedaction(JSON.stringify({ a: `x${VAULT_SECRET}` }))).toBe(true);
    expect(mayNeedRedaction(JSON.stringify({ a: 'quote " inside' }))).toBe(true);
    expect(mayNeedRedaction(JSON.stringify({ a: 'plain' }))).toBe(false);
  });
});

/** Paths of properties in an output schema whose names look secret to the core's pattern. */
function secretLookingFields(schema: unknown, path: string, out: string[]): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, any>;
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const x of s[k] ?? []) secretLookingFields(x, path, out);
  if (s.items) secretLookingFields(s.items, `${path}[]`, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') secretLookingFields(s.additionalProperties, `${path}.*`, out);
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    if (isSecretKey(k) && !NOT_SECRET_FIELDS.has(k)) out.push(`${path}.${k}`);
    secretLookingFields(v, `${path}.${k}`, out);
  }
}

describe('the output schemas', () => {
  it('have exactly the secret-looking fields we mean to mask over MCP (a new one needs a decision)', () => {
    const found: string[] = [];
    for (const cmd of allCommands.filter((c) => channelsOf(c).includes('mcp'))) {
      const fields: string[] = [];
      secretLookingFields(fullOutputSchema(cmd), '', fields);
      found.push(...fields.map((f) => `${cmd.name}${f}`));
    }
    // Account credentials are already masked by the server ("abc***xyz"); over MCP they become "***".
    expect(found.sort()).toEqual(['accounts_list_accounts.data[].connectors[].credentials']);
  });

  it('every masked field holds only strings, so "***" keeps the result valid', () => {
    const schema = fullOutputSchema(command('accounts_list_accounts')) as any;
    const credentials = schema.properties.data.items.properties.connectors.items.properties.credentials;
    expect(credentials.additionalProperties).toEqual({ type: 'string' });
  });
});
