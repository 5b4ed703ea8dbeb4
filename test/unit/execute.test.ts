import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AuditEvent, AuditLog } from '../../src/core/audit/audit-log.js';
import { createRegistry, defineCommand, execute, type AnyCommand, type CommandContext, type CommandServices, type Guard, type Surface } from '../../src/core/command/index.js';
import { AppError } from '../../src/core/errors.js';
import { type Principal } from '../../src/core/principal.js';
import type { Logger } from '../../src/core/logger.js';
import { ManualClock } from '../../src/core/clock.js';

/** An in-memory audit log: every record() call is kept. */
class MemoryAudit implements AuditLog {
  events: AuditEvent[] = [];
  async record(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
  async begin(event: AuditEvent): Promise<number> {
    this.events.push(event);
    return this.events.length - 1;
  }
  async complete(id: number, outcome: string): Promise<void> {
    this.events[id] = { ...this.events[id]!, outcome };
  }
  async flush(): Promise<void> {}
}

/** A logger that remembers its lines. */
function memoryLogger(): Logger & { lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const logger = { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

let calls: Array<{ name: string; input: unknown }> = [];

const readThing = defineCommand({
  name: 'things_get_thing',
  group: 'things',
  title: 'Get thing',
  description: 'Reads a thing.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ id: z.string().min(1), count: z.number().int().optional() }),
  output: z.object({ id: z.string(), count: z.number() }),
  http: { method: 'GET', path: '/things/{id}' },
  handler: async (input) => {
    calls.push({ name: 'things_get_thing', input });
    return { id: input.id, count: input.count ?? 0 };
  },
});

const writeThing = defineCommand({
  name: 'things_set_thing',
  group: 'things',
  title: 'Set thing',
  description: 'Writes a thing.',
  risk: 'write',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    id: z.string(),
    api_key: z.string().optional(),
    nested: z.strictObject({ password: z.string(), note: z.string() }).optional(),
    list: z.array(z.strictObject({ secret: z.string() })).optional(),
  }),
  output: z.object({ ok: z.boolean() }),
  http: { method: 'PUT', path: '/things/{id}' },
  handler: async (input) => {
    calls.push({ name: 'things_set_thing', input });
    return { ok: true };
  },
});

const adminThing = defineCommand({
  name: 'things_delete_thing',
  group: 'things',
  title: 'Delete thing',
  description: 'Admin delete over REST only.',
  risk: 'admin',
  idempotent: false,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({ id: z.string() }),
  output: z.object({ deleted: z.boolean() }),
  http: { method: 'DELETE', path: '/things/{id}' },
  handler: async (input) => {
    calls.push({ name: 'things_delete_thing', input });
    return { deleted: true };
  },
});

const destroyThing = defineCommand({
  name: 'things_remove_thing',
  group: 'things',
  title: 'Remove thing',
  description: 'Destructive.',
  risk: 'destructive',
  idempotent: false,
  openWorld: false,
  input: z.strictObject({ id: z.string() }),
  output: z.object({ removed: z.boolean() }),
  http: { method: 'POST', path: '/things/{id}/remove' },
  handler: async (input) => {
    calls.push({ name: 'things_remove_thing', input });
    return { removed: true };
  },
});

const badOutput = defineCommand({
  name: 'things_list_broken',
  group: 'things',
  title: 'Broken',
  description: 'Returns the wrong shape.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({}),
  output: z.object({ n: z.number() }),
  http: { method: 'GET', path: '/broken' },
  handler: async () => ({ n: 'not a number' }) as unknown as { n: number },
});

const throwsPlain = defineCommand({
  name: 'things_list_crashing',
  group: 'things',
  title: 'Crashing',
  description: 'Throws a non-AppError.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({}),
  output: z.object({}),
  http: { method: 'GET', path: '/crash' },
  handler: async () => {
    throw new Error('connection string postgres://u:hunter2@db leaked');
  },
});

const throwsApp = defineCommand({
  name: 'things_get_missing',
  group: 'things',
  title: 'Missing',
  description: 'Throws NOT_FOUND.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({}),
  output: z.object({}),
  http: { method: 'GET', path: '/missing' },
  handler: async () => {
    throw new AppError('NOT_FOUND', 'no such thing', { hint: 'list them' });
  },
});

const otherGroup = defineCommand({
  name: 'others_get_other',
  group: 'others',
  title: 'Other',
  description: 'In another toolset.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({}),
  output: z.object({ ok: z.boolean() }),
  http: { method: 'GET', path: '/other' },
  handler: async () => {
    calls.push({ name: 'others_get_other', input: {} });
    return { ok: true };
  },
});

/** Outcomes of the journal as the trading handler saw it while it ran. */
let seenByHandler: string[] = [];
const tradeThing = defineCommand({
  name: 'things_place_thing',
  group: 'things',
  title: 'Place thing',
  description: 'Sends a thing to the outside world.',
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  input: z.strictObject({ id: z.string(), fail: z.boolean().optional() }),
  output: z.object({ ok: z.boolean() }),
  http: { method: 'POST', path: '/things/{id}/place' },
  trade: (input) => ({ kind: 'order', account: `acct_${input.id}`, connector: 'sim', pair: 'BTC-USDT', reducing: false }),
  handler: async (input) => {
    seenByHandler = audit.events.map((e) => e.outcome);
    if (input.fail) throw new AppError('UPSTREAM_REJECTED', 'the venue said no');
    return { ok: true };
  },
});

const registry = createRegistry([readThing, writeThing, adminThing, destroyThing, badOutput, throwsPlain, throwsApp, otherGroup, tradeThing] as unknown as AnyCommand[]);

const ADMIN: Principal = { name: 'root', role: 'admin' };
const TRADER: Principal = { name: 'agent', role: 'trader' };
const VIEWER: Principal = { name: 'dash', role: 'viewer' };
const REST: Surface = { channel: 'rest', toolsets: 'all', readOnly: false };
const MCP: Surface = { channel: 'mcp', toolsets: new Set(['things', 'others']), readOnly: false };

let audit: MemoryAudit;
let logger: ReturnType<typeof memoryLogger>;
let guards: Guard[];

/** The time execute() stamps its audit rows with: the context's clock, not the wall. */
const AT = Date.UTC(2026, 0, 2, 3, 4, 5, 6);

function ctx(principal: Principal = ADMIN, surface: Surface = REST): CommandContext {
  const services = { guards, audit, logger, clock: new ManualClock(AT) } as unknown as CommandServices;
  return { services, principal, surface, requestId: 'req-1', logger };
}

async function fails(name: string, input: unknown, c: CommandContext): Promise<AppError> {
  try {
    await execute(registry, name, input, c);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`${name} did not fail`);
}

beforeEach(() => {
  calls = [];
  audit = new MemoryAudit();
  logger = memoryLogger();
  guards = [];
});

describe('execute: success', () => {
  it('parses, runs the handler and returns the checked output', async () => {
    const out = await execute(registry, 'things_get_thing', { id: 'a', count: 3 }, ctx());
    expect(out).toEqual({ id: 'a', count: 3 });
    expect(calls).toEqual([{ name: 'things_get_thing', input: { id: 'a', count: 3 } }]);
  });

  it('records exactly one audit event describing the call', async () => {
    await execute(registry, 'things_set_thing', { id: 'a' }, ctx(TRADER, MCP));
    expect(audit.events).toHaveLength(1);
    const e = audit.events[0]!;
    expect(e).toMatchObject({ channel: 'mcp', principal: 'agent', command: 'things_set_thing', risk: 'write', outcome: 'OK', requestId: 'req-1', input: { id: 'a' } });
    expect(e.at).toEqual(new Date(AT));
    expect(e.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('execute: policy', () => {
  it('refuses a REST-only command over MCP with POLICY_DENIED, before the handler', async () => {
    const err = await fails('things_delete_thing', { id: 'a' }, ctx(ADMIN, { ...MCP, toolsets: 'all' }));
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.message).toMatch(/not available over MCP/);
    expect(err.hint).toMatch(/REST/);
    expect(calls).toEqual([]);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ command: 'things_delete_thing', outcome: 'POLICY_DENIED', channel: 'mcp' });
  });

  it('allows the same REST-only command over REST for an admin', async () => {
    await expect(execute(registry, 'things_delete_thing', { id: 'a' }, ctx(ADMIN, REST))).resolves.toEqual({ deleted: true });
  });

  it('refuses a command whose toolset is not enabled', async () => {
    const err = await fails('others_get_other', {}, ctx(ADMIN, { ...MCP, toolsets: new Set(['things']) }));
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.message).toMatch(/toolset "others"/);
    expect(calls).toEqual([]);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]!.outcome).toBe('POLICY_DENIED');
  });

  it('in read-only mode refuses writes and destructive calls but runs reads', async () => {
    const ro: Surface = { ...MCP, readOnly: true };
    for (const name of ['things_set_thing', 'things_remove_thing']) {
      const err = await fails(name, { id: 'a' }, ctx(TRADER, ro));
      expect(err.code).toBe('POLICY_DENIED');
      expect(err.message).toMatch(/read-only/);
    }
    await expect(execute(registry, 'things_get_thing', { id: 'a' }, ctx(TRADER, ro))).resolves.toEqual({ id: 'a', count: 0 });
    expect(calls.map((c) => c.name)).toEqual(['things_get_thing']);
    expect(audit.events.map((e) => e.outcome)).toEqual(['POLICY_DENIED', 'POLICY_DENIED', 'OK']);
  });

  it('lets a viewer read but not write', async () => {
    await expect(execute(registry, 'things_get_thing', { id: 'a' }, ctx(VIEWER))).resolves.toMatchObject({ id: 'a' });
    for (const name of ['things_set_thing', 'things_remove_thing', 'things_delete_thing']) {
      const err = await fails(name, { id: 'a' }, ctx(VIEWER));
      expect(err.code).toBe('POLICY_DENIED');
      expect(err.message).toMatch(/role viewer/);
      expect(err.hint).toMatch(/Viewers can only read/);
    }
    expect(calls.map((c) => c.name)).toEqual(['things_get_thing']);
  });

  it('lets a trader write and destroy but not run admin commands', async () => {
    await expect(execute(registry, 'things_set_thing', { id: 'a' }, ctx(TRADER))).resolves.toEqual({ ok: true });
    await expect(execute(registry, 'things_remove_thing', { id: 'a' }, ctx(TRADER))).resolves.toEqual({ removed: true });
    const err = await fails('things_delete_thing', { id: 'a' }, ctx(TRADER));
    expect(err.code).toBe('POLICY_DENIED');
    expect(err.hint).toMatch(/admin/);
  });

  it('checks policy before parsing: a denied call with bad input is POLICY_DENIED', async () => {
    const err = await fails('things_delete_thing', { id: 42, junk: true }, ctx(VIEWER));
    expect(err.code).toBe('POLICY_DENIED');
  });
});

describe('execute: input, guards and output', () => {
  it('turns bad input into VALIDATION_FAILED with field paths', async () => {
    const err = await fails('things_get_thing', { id: '', count: 1.5, extra: 1 }, ctx());
    expect(err.code).toBe('VALIDATION_FAILED');
    const issues = (err.details as { issues: Array<{ path: string; message: string }> }).issues;
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('id');
    expect(paths).toContain('count');
    expect(issues.some((i) => i.path === '(root)' && i.message.includes('extra'))).toBe(true);
    expect(calls).toEqual([]);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]!.outcome).toBe('VALIDATION_FAILED');
  });

  it('treats a missing input as an empty object', async () => {
    const err = await fails('things_get_thing', undefined, ctx());
    expect(err.code).toBe('VALIDATION_FAILED');
    expect((err.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(['id']);
  });

  it('answers NOT_FOUND for an unknown command and still audits it', async () => {
    const err = await fails('things_get_nothing', {}, ctx());
    expect(err.code).toBe('NOT_FOUND');
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ command: 'things_get_nothing', risk: null, outcome: 'NOT_FOUND' });
  });

  it('runs guards with the parsed input, and a refusing guard stops the handler', async () => {
    const seen: unknown[] = [];
    guards = [
      {
        async run(cmd, input, _ctx, next) {
          seen.push([cmd.name, input]);
          if (cmd.risk !== 'read') throw new AppError('RISK_LIMIT_EXCEEDED', 'over the cap');
          return next();
        },
      },
    ];
    await execute(registry, 'things_get_thing', { id: 'x', count: 2 }, ctx());
    const err = await fails('things_set_thing', { id: 'y' }, ctx());
    expect(err.code).toBe('RISK_LIMIT_EXCEEDED');
    expect(seen).toEqual([
      ['things_get_thing', { id: 'x', count: 2 }],
      ['things_set_thing', { id: 'y' }],
    ]);
    expect(calls.map((c) => c.name)).toEqual(['things_get_thing']);
    expect(audit.events.map((e) => e.outcome)).toEqual(['OK', 'RISK_LIMIT_EXCEEDED']);
  });

  it('journals a trading command\'s intent before its handler runs, then completes the same row', async () => {
    guards = [
      {
        async run(_cmd, _input, c, next) {
          c.journal = { accountName: 'acct_g', notional: '12.5', countsToBudget: true };
          return next();
        },
      },
    ];
    await execute(registry, 'things_place_thing', { id: 'g' }, ctx());
    expect(seenByHandler).toEqual(['PENDING']);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ command: 'things_place_thing', outcome: 'OK', accountName: 'acct_g', notional: '12.5', countsToBudget: true });
    const err = await fails('things_place_thing', { id: 'h', fail: true }, ctx());
    expect(err.code).toBe('UPSTREAM_REJECTED');
    expect(seenByHandler).toEqual(['OK', 'PENDING']);
    expect(audit.events.map((e) => e.outcome)).toEqual(['OK', 'UPSTREAM_REJECTED']);
  });

  it('a refused trading command leaves one row with the refusal\'s reason and never reaches the handler', async () => {
    seenByHandler = [];
    guards = [
      {
        async run(_cmd, _input, c) {
          c.journal = { accountName: 'acct_r', notional: '99' };
          throw new AppError('RISK_LIMIT_EXCEEDED', 'over the cap', { details: { check: 'max_order_notional', limit: '50' } });
        },
      },
    ];
    expect((await fails('things_place_thing', { id: 'r' }, ctx())).code).toBe('RISK_LIMIT_EXCEEDED');
    expect(seenByHandler).toEqual([]);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ outcome: 'RISK_LIMIT_EXCEEDED', accountName: 'acct_r', notional: '99', detail: { message: 'over the cap', check: 'max_order_notional', limit: '50' } });
  });

  it('turns an output that does not match the schema into INTERNAL and logs it', async () => {
    const err = await fails('things_list_broken', {}, ctx());
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/does not match its declared output/);
    expect(logger.lines.some((l) => l.level === 'error' && /output does not match/.test(l.msg))).toBe(true);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]!.outcome).toBe('INTERNAL');
  });

  it('turns a plain thrown Error into INTERNAL without exposing its message', async () => {
    const err = await fails('things_list_crashing', {}, ctx());
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('hunter2');
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain('hunter2');
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(audit.events).toHaveLength(1);
  });

  it('passes an AppError from the handler through unchanged', async () => {
    const err = await fails('things_get_missing', {}, ctx());
    expect(err.code).toBe('NOT_FOUND');
    expect(err.hint).toBe('list them');
    expect(audit.events.map((e) => e.outcome)).toEqual(['NOT_FOUND']);
  });
});

describe('execute: audit redaction', () => {
  const secretInput = {
    id: 'a',
    api_key: 'AKIA-very-secret-key',
    nested: { password: 'pa55word-nested', note: 'plain note' },
    list: [{ secret: 'list-secret-value' }],
  };

  it('records one event per call with secret-looking keys masked (successful call)', async () => {
    await execute(registry, 'things_set_thing', secretInput, ctx());
    expect(audit.events).toHaveLength(1);
    const input = audit.events[0]!.input;
    expect(input).toEqual({ id: 'a', api_key: '***', nested: { password: '***', note: 'plain note' }, list: [{ secret: '***' }] });
    expect(JSON.stringify(audit.events)).not.toMatch(/AKIA-very-secret-key|pa55word-nested|list-secret-value/);
  });

  it('masks secrets in the raw input of a call that failed validation', async () => {
    await fails('things_set_thing', { ...secretInput, unexpected: 1 }, ctx());
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]!.outcome).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(audit.events)).not.toMatch(/AKIA-very-secret-key|pa55word-nested|list-secret-value/);
    // An unknown field is kept by name only: its value may be a secret under a misspelled name.
    expect(audit.events[0]!.input).toMatchObject({ id: 'a', api_key: '***', unknown_fields: ['unexpected'] });
  });

  it('masks secrets of a call refused by policy', async () => {
    await fails('things_set_thing', secretInput, ctx(VIEWER));
    expect(audit.events).toHaveLength(1);
    expect(JSON.stringify(audit.events)).not.toMatch(/AKIA-very-secret-key|pa55word-nested|list-secret-value/);
  });

  it('records exactly one event for each of many mixed calls', async () => {
    const attempts: Array<[string, unknown, CommandContext]> = [
      ['things_get_thing', { id: 'a' }, ctx()],
      ['things_get_thing', { id: 1 }, ctx()],
      ['things_set_thing', { id: 'a' }, ctx(VIEWER)],
      ['things_delete_thing', { id: 'a' }, ctx(ADMIN, { ...MCP, toolsets: 'all' })],
      ['things_list_broken', {}, ctx()],
      ['things_list_crashing', {}, ctx()],
      ['nope_get_nope', {}, ctx()],
      ['things_remove_thing', { id: 'a' }, ctx(TRADER)],
    ];
    for (const [name, input, c] of attempts) await execute(registry, name, input, c).catch(() => undefined);
    expect(audit.events.map((e) => [e.command, e.outcome])).toEqual([
      ['things_get_thing', 'OK'],
      ['things_get_thing', 'VALIDATION_FAILED'],
      ['things_set_thing', 'POLICY_DENIED'],
      ['things_delete_thing', 'POLICY_DENIED'],
      ['things_list_broken', 'INTERNAL'],
      ['things_list_crashing', 'INTERNAL'],
      ['nope_get_nope', 'NOT_FOUND'],
      ['things_remove_thing', 'OK'],
    ]);
  });
});
