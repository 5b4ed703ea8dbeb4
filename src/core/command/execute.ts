import type { z } from 'zod';
import { AppError, toAppError } from '../errors.js';
import { NAME_MAX, NAME_PATTERN, type Registry } from './registry.js';
import { withKeyHints } from './key-hints.js';
import { checkAccountScope } from './scope.js';
import { channelsOf, type AnyCommand, type CommandContext, type Guard, type Risk } from './types.js';
import type { Role } from '../principal.js';
import type { AuditEvent } from '../audit/audit-log.js';
import { journalInput } from '../audit/journal-input.js';
import { inputDefect } from '../schema.js';
import { redactValue } from '../secrets/redact.js';

const ROLE_MAY: Record<Role, ReadonlySet<Risk>> = {
  admin: new Set(['read', 'write', 'destructive', 'admin']),
  trader: new Set(['read', 'write', 'destructive']),
  viewer: new Set(['read']),
};

/**
 * The only caller of a command handler. Both faces come through here, so every rule below holds the
 * same way over REST and MCP:
 *   resolve → policy (channel, toolset, read-only, role) → parse → guard → handler → output check → audit.
 * It returns the checked output or throws an AppError; it never builds an HTTP response or MCP result.
 */
export async function execute(registry: Registry, name: string, rawInput: unknown, ctx: CommandContext, refusal?: AppError): Promise<Record<string, unknown>> {
  const started = performance.now();
  const cmd = registry.get(name);
  let parsed: unknown;
  let accepted = false;
  let intentId: number | undefined;
  try {
    if (!cmd) {
      // The name is the caller's free text: quoted only when it looks like a name, and bounded in details.
      throw new AppError('NOT_FOUND', NAME_PATTERN.test(name) && name.length <= NAME_MAX ? `There is no command named ${name}.` : 'There is no command by that name.', {
        hint: 'List the available tools or see /openapi.json for the command names.',
        details: { command: name.length > NAME_MAX * 2 ? `${name.slice(0, NAME_MAX * 2)}…` : name },
      });
    }
    checkPolicy(cmd, ctx);
    // A face that could not even read the call (a body that is not JSON, or not an object) still makes
    // it a journal row: it is refused here, after the policy, like any other bad input.
    if (refusal) throw refusal;
    checkAccountScope(cmd, rawInput, ctx.principal, 'raw');
    parsed = parseInput(cmd.input, rawInput);
    accepted = true;
    checkAccountScope(cmd, parsed, ctx.principal, 'parsed');
    const input = parsed;
    ctx.journalRow = (outcome) => {
      ctx.journal!.written = true;
      return { ...eventOf(ctx, name, cmd, input, outcome, performance.now() - started), countsToBudget: ctx.journal?.countsToBudget ?? false };
    };
    const invoke = async () => {
      // A trading command's intent is journaled before anything is sent, inside the guards' lock, so
      // the next order's checks already see it; unless the guard's transaction stores it with the order.
      if (cmd.trade && !ctx.journal?.inTransaction) intentId = await ctx.services.audit.begin(eventOf(ctx, name, cmd, input, 'PENDING', 0));
      return cmd.handler(input as never, ctx);
    };
    const result = await runGuards(ctx.services.guards, cmd, input, ctx, invoke);
    const output = checkOutput(cmd, result, ctx);
    if (ctx.journal?.stored) return output;
    // A state-changing call waits for its row; if the row cannot be written the change has still
    // happened, so the caller gets the result (a 500 would invite a duplicate retry) and the log says why.
    const audited = finish(ctx, name, cmd, input, 'OK', started, intentId);
    if (cmd.risk !== 'read') await audited.catch((err) => ctx.logger.error('audit row not written for a completed command', { command: name, request_id: ctx.requestId, err }));
    else audited.catch(() => undefined); // a failed batch is logged by the audit log itself
    return output;
  } catch (err) {
    const appErr = toAppError(err);
    if (ctx.journal?.stored) throw appErr;
    if (appErr.code === 'INTERNAL') ctx.logger.error('command failed', { command: name, request_id: ctx.requestId, err: appErr.cause ?? appErr });
    // Input the schema did not accept keeps its known fields only: an unknown field's value may be a
    // secret sent under a misspelled name.
    const journaled = accepted ? parsed : safeJournalInput(cmd, rawInput, ctx);
    const audited = finish(ctx, name, cmd, journaled, appErr.code, started, intentId, refusalOf(appErr));
    if (cmd && cmd.risk !== 'read') await audited.catch((e) => ctx.logger.error('audit row not written', { command: name, request_id: ctx.requestId, err: e }));
    else audited.catch(() => undefined);
    throw appErr;
  }
}

/** The journal's view of unaccepted input; a failure to build it must never turn a refusal into a 500. */
function safeJournalInput(cmd: AnyCommand | undefined, raw: unknown, ctx: CommandContext): unknown {
  try {
    return journalInput(cmd?.input, raw);
  } catch (err) {
    ctx.logger.error('could not describe a refused input for the journal', { command: cmd?.name, request_id: ctx.requestId, err });
    return { unjournalable: true };
  }
}

function runGuards<T>(guards: readonly Guard[], cmd: AnyCommand, input: unknown, ctx: CommandContext, last: () => Promise<T>): Promise<T> {
  const step = (i: number): Promise<T> => (i === guards.length ? last() : guards[i]!.run(cmd, input, ctx, () => step(i + 1)));
  return step(0);
}

/** What the journal keeps of a refusal: the code's facts (limit, value), never a secret. */
function refusalOf(err: AppError): unknown {
  return err.details && Object.keys(err.details).length ? { message: err.message, ...err.details } : { message: err.message };
}

function checkPolicy(cmd: AnyCommand, ctx: CommandContext): void {
  const { surface, principal } = ctx;
  if (!channelsOf(cmd).includes(surface.channel)) {
    throw new AppError('POLICY_DENIED', `${cmd.name} is not available over ${surface.channel.toUpperCase()}.`, {
      hint: cmd.risk === 'admin' ? 'Credential and policy changes are made by an admin over the REST API, never by an agent.' : `Use the ${channelsOf(cmd).join(' or ')} interface.`,
    });
  }
  if (surface.toolsets !== 'all' && !surface.toolsets.has(cmd.group)) {
    throw new AppError('POLICY_DENIED', `${cmd.name} belongs to the toolset "${cmd.group}", which is not enabled on this server.`, {
      hint: `Restart the MCP server with --toolsets including ${cmd.group} (or TOOLSETS=${cmd.group},...) to use it.`,
    });
  }
  if (surface.readOnly && cmd.risk !== 'read') {
    throw new AppError('POLICY_DENIED', `${cmd.name} changes state and this server runs in read-only mode.`, {
      hint: 'Only read commands are available; ask the operator to start the server without --read-only.',
    });
  }
  if (!ROLE_MAY[principal.role].has(cmd.risk)) {
    throw new AppError('POLICY_DENIED', `${principal.name} (role ${principal.role}) may not run ${cmd.name} (${cmd.risk}).`, {
      hint: principal.role === 'viewer' ? 'Viewers can only read.' : 'Only an admin can do this.',
    });
  }
}

/**
 * One line per problem, with the dotted path of the field, so a model can fix its call; given the
 * schema, an unrecognized key also names the key it most likely meant.
 */
export function zodIssues(error: z.ZodError, schema?: z.ZodType): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: schema ? withKeyHints(schema, i) : i.message }));
}

/** Absent input is an empty object (a command without parameters); anything else must be an object. */
function parseInput(schema: z.ZodObject, raw: unknown): unknown {
  const defect = inputDefect(raw);
  if (defect !== null) {
    throw new AppError('VALIDATION_FAILED', `Invalid input: ${defect.path}: ${defect.message}`, {
      hint: 'Send text without control characters and objects nested a few levels at most; no field accepts a NUL character, an unpaired UTF-16 surrogate or deeper nesting.',
      details: { issues: [defect] },
    });
  }
  const res = schema.safeParse(raw === undefined ? {} : raw);
  if (res.success) return res.data;
  const issues = zodIssues(res.error, schema);
  const summary = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new AppError('VALIDATION_FAILED', `Invalid input: ${summary}`, {
    hint: 'Fix the fields listed in details.issues and call again; the input schema documents each field.',
    details: { issues },
  });
}

function checkOutput(cmd: AnyCommand, result: unknown, ctx: CommandContext): Record<string, unknown> {
  const res = cmd.output.safeParse(result);
  if (res.success) return res.data as Record<string, unknown>;
  ctx.logger.error('command output does not match its schema', { command: cmd.name, issues: zodIssues(res.error) });
  throw new AppError('INTERNAL', `${cmd.name} produced a result that does not match its declared output.`, {
    hint: 'This is a server bug; the server log names the mismatched fields.',
  });
}

function eventOf(ctx: CommandContext, name: string, cmd: AnyCommand | undefined, input: unknown, outcome: string, durationMs: number, detail?: unknown): AuditEvent {
  const j = ctx.journal;
  const account = j?.accountName ?? (input && typeof input === 'object' && typeof (input as { account_name?: unknown }).account_name === 'string' ? (input as { account_name: string }).account_name : null);
  return {
    at: ctx.services.clock.date(),
    channel: ctx.surface.channel,
    principal: ctx.principal.name,
    command: name,
    risk: cmd?.risk ?? null,
    input: redactValue(input ?? null),
    outcome,
    durationMs,
    requestId: ctx.requestId,
    accountName: account,
    notional: j?.notional ?? null,
    // Only an intent row (written before the handler) can have spent anything: a call refused before
    // it, whatever its code, never counts towards a budget, a rate or the duplicate window.
    countsToBudget: outcome === 'PENDING' && (j?.countsToBudget ?? false),
    fingerprint: j?.fingerprint ?? null,
    detail: detail ?? j?.detail ?? null,
  };
}

/** Completes the journaled intent, or writes the call's one row (reads batched, writes at once). */
function finish(ctx: CommandContext, name: string, cmd: AnyCommand | undefined, input: unknown, outcome: string, started: number, intentId: number | undefined, detail?: unknown): Promise<void> {
  const durationMs = performance.now() - started;
  ctx.logger.debug('command', { command: name, channel: ctx.surface.channel, principal: ctx.principal.name, outcome, duration_ms: Math.round(durationMs * 100) / 100, request_id: ctx.requestId });
  if (intentId !== undefined) return ctx.services.audit.complete(intentId, outcome, durationMs, detail);
  return ctx.services.audit.record(eventOf(ctx, name, cmd, input, outcome, durationMs, detail), cmd !== undefined && cmd.risk !== 'read');
}

