import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { HttpAnswer } from './test-env.js';

/** A tool call's outcome: the structured output, or the error body with its code and the whole text shown to the model. */
export type McpOutcome = { ok: true; output: any } | { ok: false; code: string; error: any; text: string };

export async function mcpCall(client: Client, name: string, args: Record<string, unknown>): Promise<McpOutcome> {
  const r = await client.callTool({ name, arguments: args });
  const blocks = r.content as Array<{ text: string }>;
  if (!r.isError) return { ok: true, output: r.structuredContent };
  const error = JSON.parse(blocks[0]!.text).error;
  return { ok: false, code: error.code, error, text: blocks.map((c) => c.text).join('\n') };
}

/** An SDK client on the server's streamable HTTP endpoint, authenticated as `auth`. */
export async function mcpClient(baseUrl: string, auth: string, name = 'test'): Promise<Client> {
  const client = new Client({ name, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { authorization: auth } } }));
  return client;
}

/** 'ok' for a success, else the error code: the one word most guard assertions compare. */
export const codeOf = (r: HttpAnswer | McpOutcome): string => ('status' in r ? (r.status < 300 ? 'ok' : r.body.error.code) : r.ok ? 'ok' : r.code);
