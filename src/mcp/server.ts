import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ErrorCode as RpcErrorCode,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type AnyCommand, execute, type Registry, type Surface } from '../core/command/index.js';
import { toAppError } from '../core/errors.js';
import { type Principal } from '../core/principal.js';
import type { CommandServices as Services } from '../core/command/types.js';
import { humanConfirmer } from './ask-human.js';
import { loadPrompts, promptArgumentProblems, renderPrompt, type PromptFile } from './prompts.js';
import { restRoutesAsTools } from './rest-hints.js';
import { type CutHelp, MAX_RESULT_CHARS, MIN_RESULT_CHARS } from './result-size.js';
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
 * tools/call with `arguments` of any JSON type. The SDK's own schema wants an object, and a request
 * that fails it never reaches a handler (the caller gets -32603, an internal error, and no journal
 * row). Here a non-object is moved aside, so the SDK's check passes, and execute() refuses it as
 * VALIDATION_FAILED like any other bad input, with its journal row. A missing or non-string `name` is
 * moved aside the same way (the SDK's check would answer it as an internal error, -32603) and refused
 * by the handler as invalid params (-32602), which is what it is.
 */
const CallToolAnyArguments = CallToolRequestSchema.extend({
  params: CallToolRequestSchema.shape.params
    .extend({ name: z.unknown().optional(), arguments: z.unknown().optional() })
    .transform(({ arguments: args, name, ...rest }) => ({ ...rest, name: typeof name === 'string' ? name : '', nameGiven: name, given: args })),
});

/** prompts/get with argument values of any JSON type, checked by promptArgumentProblems. */
const GetPromptAnyArguments = GetPromptRequestSchema.extend({
  params: GetPromptRequestSchema.shape.params.extend({ arguments: z.unknown().optional() }),
});

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
  const visible = visibleCommands(registry, surface);
  const tools = visible.map(toTool);
  const routesAsTools = restRoutesAsTools(visible);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));

  server.setRequestHandler(CallToolAnyArguments, async (req, extra) => {
    const { name, nameGiven } = req.params;
    if (typeof nameGiven !== 'string') throw new McpError(RpcErrorCode.InvalidParams, 'tools/call needs params.name, the name of the tool to call; tools/list shows them.');
    const requestId = randomUUID();
    try {
      const askHuman = humanConfirmer(server);
      const token = req.params._meta?.progressToken;
      const progress = token === undefined ? undefined : progressNotifier((n) => extra.sendNotification(n), token);
      // Absent arguments are none (a tool without parameters); anything else is the tool's input.
      const out = await execute(registry, name, req.params.given, { services, principal, surface, requestId, logger: services.logger, askHuman, ...(progress ? { progress } : {}) });
      return toolResult(out, { maxChars, help: cutHelp(registry.get(name)) });
    } catch (err) {
      return toolError(routesAsTools(toAppError(err)), requestId);
    }
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: prompts.map((p) => ({ name: p.name, title: p.title, description: p.description, arguments: p.arguments })),
  }));

  server.setRequestHandler(GetPromptAnyArguments, async (req) => {
    const p = prompts.find((x) => x.name === req.params.name);
    if (!p) throw new McpError(RpcErrorCode.InvalidParams, `No prompt named ${req.params.name.slice(0, 64)}; prompts/list shows them.`);
    const problems = promptArgumentProblems(p, req.params.arguments);
    if (problems.length) throw new McpError(RpcErrorCode.InvalidParams, `Invalid arguments for prompt ${p.name}: ${problems.slice(0, 5).join('; ')}.`, { issues: problems });
    const args = (req.params.arguments ?? {}) as Record<string, string | undefined>;
    return { description: p.description, messages: [{ role: 'user', content: { type: 'text', text: renderPrompt(p, args) } }] };
  });

  return server;
}

/**
 * MCP progress notifications for one call: only rising values are sent (the protocol asks for
 * increasing progress), and a failed send is dropped, since progress is advice and the call goes on.
 */
function progressNotifier(send: (n: ServerNotification) => Promise<void>, progressToken: string | number): (fraction: number, message?: string) => void {
  let last = -1;
  return (fraction, message) => {
    if (!(fraction > last)) return;
    last = fraction;
    send({ method: 'notifications/progress', params: { progressToken, progress: fraction, total: 1, ...(message ? { message } : {}) } }).catch(() => undefined);
  };
}

/** Whether a command takes anything besides ids to narrow its result (a limit, a time range, a filter), and its REST route (which serves it uncut). */
function cutHelp(command: AnyCommand | undefined): CutHelp {
  if (!command) return { narrows: true };
  const keys = Object.keys((command.input as unknown as { shape?: Record<string, unknown> }).shape ?? {});
  return { narrows: keys.some((k) => !k.endsWith('_id')), ...(command.http ? { route: `${command.http.method} ${command.http.path}` } : {}) };
}
