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
import { humanConfirmer } from './ask-human.js';
import { loadPrompts, renderPrompt, type PromptFile } from './prompts.js';
import { MAX_RESULT_CHARS, MIN_RESULT_CHARS } from './result-size.js';
import { toTool, visibleCommands } from './tool-adapter.js';
import { toolError, toolResult } from './tool-output.js';

export interface McpServerOptions {
  registry: Registry;
  services: Services;
  principal: Principal;
  surface: Surface;
  version: string;
  prompts?: { instructions: string; prompts: PromptFile[] };
  /** Limit on a success result's size in characters (default MAX_RESULT_CHARS); larger results are cut. */
  maxResultChars?: number;
}

/**
 * An MCP server over the command registry, built on the SDK's low-level Server so that our own
 * execute() parses arguments: a bad argument then comes back as our VALIDATION_FAILED result with field
 * paths, the same as over REST, rather than as the SDK's own message.
 */
export function createMcpServer(opts: McpServerOptions): Server {
  const { registry, services, principal, surface } = opts;
  const { instructions, prompts } = opts.prompts ?? loadPrompts();
  const maxChars = opts.maxResultChars ?? MAX_RESULT_CHARS;
  // Below this a cut result would be little more than its notice.
  if (!Number.isInteger(maxChars) || maxChars < MIN_RESULT_CHARS) throw new RangeError(`maxResultChars must be an integer of at least ${MIN_RESULT_CHARS}`);
  const server = new Server(
    { name: 'tradedesk', title: 'tradedesk trading server', version: opts.version },
    { capabilities: { tools: {}, prompts: {} }, instructions },
  );
  const tools = visibleCommands(registry, surface).map(toTool);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));

  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const requestId = randomUUID();
    try {
      const askHuman = humanConfirmer(server);
      const out = await execute(registry, req.params.name, req.params.arguments ?? {}, { services, principal, surface, requestId, logger: services.logger, askHuman });
      return toolResult(out, { maxChars });
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
