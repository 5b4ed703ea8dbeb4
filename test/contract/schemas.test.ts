import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { channelsOf, createRegistry } from '../../src/core/command/index.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { toTool } from '../../src/mcp/tool-adapter.js';
import { allCommands } from '../../src/tools/index.js';
import { testServices } from '../helpers/test-env.js';

const table = allCommands.map((cmd) => ({ name: cmd.name, cmd }));
const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

describe('tool schema snapshots', () => {
  // REST-only commands are snapshotted too, so that any schema change shows up in review.
  it.each(table)('$name matches __toolsnaps__/$name.json', async ({ cmd }) => {
    const { name, title, description, annotations, inputSchema, outputSchema } = toTool(cmd);
    await expect(JSON.stringify({ name, title, description, annotations, inputSchema, outputSchema }, null, 2)).toMatchFileSnapshot(`./__toolsnaps__/${name}.json`);
  });
});

describe('tool annotations', () => {
  it.each(table)('$name sets all four hints explicitly as booleans', ({ cmd }) => {
    const annotations = toTool(cmd).annotations ?? {};
    for (const hint of HINTS) expect(typeof annotations[hint], `${cmd.name}.${hint}`).toBe('boolean');
  });

  it.each(table)('$name is readOnly exactly when its risk is read', ({ cmd }) => {
    expect(toTool(cmd).annotations?.readOnlyHint).toBe(cmd.risk === 'read');
  });

  it.each(table)('$name is not both read-only and destructive', ({ cmd }) => {
    const a = toTool(cmd).annotations!;
    if (a.readOnlyHint) expect(a.destructiveHint).toBe(false);
  });

  it.each(table.filter(({ cmd }) => cmd.risk === 'destructive' || cmd.destructive))('$name (destructive) says destructiveHint true', ({ cmd }) => {
    expect(toTool(cmd).annotations?.destructiveHint).toBe(true);
  });
});

describe('tools advertised by a real MCP server', () => {
  const registry = createRegistry(allCommands);
  let client: Client;
  let listed: Tool[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    const svc = await testServices('postgres');
    const server = createMcpServer({
      registry,
      services: svc.services,
      principal: { name: 'contract', role: 'admin' },
      surface: { channel: 'mcp', toolsets: 'all', readOnly: false },
      version: 'test',
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: 'contract-test', version: '0.0.0' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    listed = (await client.listTools()).tools;
    close = async () => {
      await client.close();
      await server.close();
      await svc.close();
    };
  });
  afterAll(async () => close?.());

  it('lists exactly the commands served over MCP (admin commands are not listed)', () => {
    const expected = allCommands.filter((c) => channelsOf(c).includes('mcp')).map((c) => c.name);
    expect(listed.map((t) => t.name)).toEqual(expected);
    expect(listed.length).toBeGreaterThan(0);
  });

  it.each(table.filter(({ cmd }) => channelsOf(cmd).includes('mcp')))('$name is advertised exactly as toTool(cmd)', ({ cmd }) => {
    const tool = listed.find((t) => t.name === cmd.name);
    expect(tool).toBeDefined();
    expect(tool).toEqual(toTool(cmd));
  });

  it('never advertises an empty input schema', () => {
    for (const tool of listed) {
      const s = tool.inputSchema as Record<string, unknown>;
      expect(s.type, tool.name).toBe('object');
      const props = s.properties as Record<string, unknown> | undefined;
      const nonEmpty = (props !== undefined && Object.keys(props).length > 0) || s.additionalProperties === false;
      expect(nonEmpty, `${tool.name} has an empty inputSchema: ${JSON.stringify(s)}`).toBe(true);
    }
  });

  it('advertises an object output schema for every tool', () => {
    for (const tool of listed) expect(tool.outputSchema?.type, tool.name).toBe('object');
  });
});
