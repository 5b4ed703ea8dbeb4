import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServerOptions } from './server.js';
import { createMcpServer } from './server.js';

/** Serves MCP on stdin/stdout until the client closes the stream (or `until` settles: a signal). */
export async function serveStdio(opts: McpServerOptions, until?: Promise<unknown>): Promise<void> {
  const server = createMcpServer(opts);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.on('end', resolve);
    until?.then(() => resolve(), () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}
