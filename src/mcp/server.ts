import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ErrorCode as RpcErrorCode,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { execute, toAppError, type Principal, type Registry, type Surface } from '../core/command/index.js';
import type { Services } from '../core/services.js';
import { loadPrompts, renderPrompt, type PromptFile } from './prompts.js';
import { toolError, toolResult, toTool, visibleCommands } from './tool-adapter.js';

export interface McpServerOptions {
  registry: Registry;
  services: Services;
  principal: Principal;
  surface: Surface;
  version: string;
  prompts?: { instructions: string; prompts: PromptFile[] };
}

/**
 * An MCP server over the command registry, built on the SDK's low-level Server so that our own
 * execute() parses arguments: a bad argument then comes back as our VALIDATION_FAILED result with field
 * paths, the same as over REST, rather than as the SDK's own message.
 */
export function createMcpServer(opts: McpServerOptions): Server {
  const { registry, services, principal, surface } = opts;
  const { instructions, prompts } = opts.prompts ?? loadPrompts();
  const server = new Server(
    { name: 'tradedesk', title: 'tradedesk trading server', version: opts.version },
    { capabilities: { tools: {}, prompts: {} }, instructions },
  );
  const tools = visibleCommands(registry, surface).map(toTool);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));

  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const requestId = randomUUID();
    try {
      const out = await execute(registry, req.params.name, req.params.arguments ?? {}, { services, principal, surface, requestId, logger: services.logger });
      return toolResult(out);
    } catch (err) {
      return toolError(toAppError(err), requestId);
    }
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: prompts.map((p) => ({ name: p.name, title: p.title, description: p.description, arguments: p.arguments })),
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const p = prompts.find((x) => x.name === req.params.name);
    if (!p) throw new McpError(RpcErrorCode.InvalidParams, `No prompt named ${req.params.name}; prompts/list shows them.`);
    const args = req.params.arguments ?? {};
    const missing = p.arguments.filter((a) => a.required && !args[a.name]).map((a) => a.name);
    if (missing.length) throw new McpError(RpcErrorCode.InvalidParams, `Prompt ${p.name} needs ${missing.join(', ')}.`);
    return { description: p.description, messages: [{ role: 'user', content: { type: 'text', text: renderPrompt(p, args) } }] };
  });

  return server;
}
