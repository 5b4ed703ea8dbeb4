import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

/** The error body every face answers with: REST's JSON body and an MCP tool's first text block. */
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  retryable: boolean;
  /** Field issues for VALIDATION_FAILED; other codes add their own keys (check, limit, exchange...). */
  details?: { issues?: Array<{ path: string; message: string }>; [k: string]: any };
  request_id?: string;
}

/** What expectError needs of an HTTP answer (HttpAnswer, or a fetch result already parsed). */
export interface ErrorAnswer {
  status: number;
  body: any;
  headers?: Headers;
}

/**
 * One REST error, checked whole: exactly `status` and `code` (never "some 4xx"), a JSON error with a
 * message and a retryable flag, the X-Request-Id header when the answer has headers, and no stack
 * trace, file path or SQL in it. Returns the error for further checks.
 */
export function expectError(r: ErrorAnswer, status: number, code: string): ErrorBody {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body, JSON.stringify(r.body)).toBeTypeOf('object');
  const e = r.body.error as ErrorBody;
  expect(e.code, JSON.stringify(r.body)).toBe(code);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
  expect(typeof e.retryable).toBe('boolean');
  if (r.headers) {
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(e.request_id).toBe(r.headers.get('x-request-id'));
  }
  expect(JSON.stringify(r.body)).not.toMatch(/\n\s+at |node_modules|insert into|select .* from/i);
  return e;
}

export type CallResult = Awaited<ReturnType<Client['callTool']>>;

/** The error of a raw MCP tool result, which must be an error: `isError` and a JSON text block. */
export function errorOf(result: CallResult): ErrorBody {
  expect(result.isError, JSON.stringify(result.content)).toBe(true);
  const content = result.content as Array<{ type: string; text: string }>;
  expect(content[0]?.type).toBe('text');
  return (JSON.parse(content[0]!.text) as { error: ErrorBody }).error;
}

/** The structured output of a raw MCP tool result, which must be a success. */
export function structuredOf(result: CallResult): any {
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  return result.structuredContent;
}
