import type { z } from 'zod';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../principal.js';
import type { TradeIntent } from '../trade-intent.js';
import type { AccountScopeRule } from './scope.js';

/**
 * What a command may do, from least to most dangerous. Drives the MCP annotations, read-only mode and
 * role checks: `read` changes nothing; `write` changes state and can be repeated or undone; `destructive`
 * deletes or moves money irreversibly; `admin` manages credentials, users or policy.
 */
export type Risk = 'read' | 'write' | 'destructive' | 'admin';
/** Where a call comes from: the two faces, or a bot over MQTT (its orders run as principal `bot:<name>`). */
export type Channel = 'rest' | 'mcp' | 'bot';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';


export interface HttpBinding {
  method: HttpMethod;
  /** Express-independent path with `{param}` placeholders; each param must be an input key. */
  path: string;
  /** Status on success; 200 unless set (201 for creations). */
  successStatus?: number;
}

/** Where a call comes from and what that surface allows; built by each face, enforced by execute(). */
export interface Surface {
  channel: Channel;
  /** Toolsets callable from this surface; `'all'` for REST. */
  toolsets: ReadonlySet<string> | 'all';
  readOnly: boolean;
}

/**
 * `ctx.services` as the command layer knows it: what execute() itself uses. The composition root widens
 * it by declaration merging to every service a handler may use, so command/ depends on no concrete
 * service and the root, which depends on command/, is not imported back.
 */
export interface CommandServices {
  /** The time every command reads: the wall clock in the server, a pinned or simulated one elsewhere. */
  clock: Clock;
  audit: AuditLog;
  guards: Guard[];
}

export interface CommandContext {
  services: CommandServices;
  principal: Principal;
  surface: Surface;
  requestId: string;
  logger: Logger;
  /**
   * Asks the human at the client to approve an action (MCP elicitation), when the face can. Resolves true
   * only on an explicit approval; a decline, a cancel or a failure is false. Absent when the client
   * cannot be asked.
   */
  askHuman?: (question: ConfirmationQuestion) => Promise<boolean>;
  /**
   * Reports how far a long call is (a run that waits for its job), `fraction` from 0 to 1, when the
   * client asked for progress (an MCP progress token). Absent otherwise.
   */
  progress?: (fraction: number, message?: string) => void;
  /**
   * Set for an order the server places on its own schedule for an executor or a controller run: the
   * duplicate window, meant to catch a caller repeating itself, does not apply to a TWAP's equal slices
   * or a grid's equal levels. Every other guard does.
   */
  automated?: boolean;
  /** Facts a guard found (account, value of the order), written into this call's audit row. */
  journal?: JournalFacts;
  /**
   * This call's journal row with an outcome, as execute() would write it: for a handler that writes it
   * itself in its own transaction (a paper order stores its row with the order). Set by execute().
   */
  journalRow?: (outcome: string) => AuditEvent;
}

export interface ConfirmationQuestion {
  message: string;
  /** The order being confirmed, as plain fields, so the client can show them. */
  summary: Record<string, string>;
}

export interface JournalFacts {
  accountName?: string;
  notional?: string | null;
  countsToBudget?: boolean;
  fingerprint?: string | null;
  detail?: unknown;
  /** The guard runs the handler inside its own transaction: execute() writes no intent row before it. */
  inTransaction?: boolean;
  /** The handler included the call's row in its transaction's writes. */
  written?: boolean;
  /** That transaction committed: the call has its one row, and execute() writes none after it. */
  stored?: boolean;
}


export interface CommandDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  /** `<group>_<verb>_<noun>`, snake_case, at most 40 characters. */
  name: string;
  /** The group (and default MCP toolset); the name starts with it. */
  group: string;
  title: string;
  /** Written for a model: what it does, when to use it, what comes back. Parameter docs go in `.describe()`. */
  description: string;
  risk: Risk;
  /** Irreversible even though the risk class is not `destructive` (an admin delete). */
  destructive?: boolean;
  /** Repeating the same call has no further effect. */
  idempotent: boolean;
  /** The command talks to something outside this server (an exchange, a container, a bot). */
  openWorld: boolean;
  /** Faces that may call it; both unless narrowed (credential commands are REST-only). */
  channels?: readonly Channel[];
  input: I;
  output: O;
  http: HttpBinding;
  /**
   * What an omitted account means, for a command that takes an optional account or lists accounts' data
   * (see scope.ts): 'filtered' = the handler lists only the principal's accounts; 'named' = a principal
   * limited to some accounts must name one; `{ default }` = this account is used.
   */
  accountScope?: AccountScopeRule;
  /** Declared by commands that trade: the guards check and journal the intent before the handler runs. */
  trade?: (input: z.output<I>) => TradeIntent;
  handler: (input: z.output<I>, ctx: CommandContext) => Promise<z.input<O>>;
}

/**
 * Wraps the handler inside execute(), after the input is parsed: risk limits, confirmations, kill
 * switches. It throws an AppError to refuse, or calls `next` (the handler) — so it can hold a lock
 * across its checks and the execution, and no concurrent call can slip between the two.
 */
export interface Guard {
  run<T>(cmd: AnyCommand, input: unknown, ctx: CommandContext, next: () => Promise<T>): Promise<T>;
}

/** A command with its types erased, as the registry and the faces hold it. */
export type AnyCommand = CommandDefinition<z.ZodObject, z.ZodObject>;

/** Typed identity: keeps the handler's input and output types tied to the schemas. No side effects. */
export function defineCommand<I extends z.ZodObject, O extends z.ZodObject>(def: CommandDefinition<I, O>): CommandDefinition<I, O> {
  return Object.freeze(def);
}

export function channelsOf(cmd: AnyCommand): readonly Channel[] {
  return cmd.channels ?? ['rest', 'mcp'];
}
