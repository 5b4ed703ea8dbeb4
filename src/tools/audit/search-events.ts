import { and, desc, eq, gte, inArray, isNull, lt, lte, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { defineCommand, scopeList } from '../../core/command/index.js';
import { auditEvents } from '../../core/db/schema/index.js';
import { AccountName, IdCursor, paginated, TimeIn } from '../../core/schema.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';

const Name = z.string().min(1).max(80).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only');

export const searchEvents = defineCommand({
  name: 'audit_search_events',
  group: 'audit',
  title: 'Search the audit journal',
  description:
    'The journal, newest first: every REST or MCP call with its principal, redacted input and outcome, refusals included (an order is PENDING until it completes). Filter by account, principal, command, outcome or time.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    account_name: AccountName.optional(),
    principal: Name.optional().describe('The user or agent that made the call.'),
    command: z.string().regex(/^[a-z0-9_]{1,40}$/, 'a command name').optional().describe('e.g. trading_place_order.'),
    outcome: z.string().regex(/^[A-Z_]{2,40}$/, 'OK, PENDING or an error code').optional().describe('OK, PENDING, or an error code such as RISK_LIMIT_EXCEEDED.'),
    channel: z.enum(['rest', 'mcp']).optional(),
    since: TimeIn.optional().describe('From this time (epoch ms or ISO-8601).'),
    until: TimeIn.optional().describe('Up to this time.'),
    limit: PageLimit,
    cursor: IdCursor.describe("The previous page's pagination.next_cursor."),
  }),
  output: paginated(
    z.object({
      id: z.number().int(),
      at: z.string(),
      channel: z.string(),
      principal: z.string(),
      command: z.string(),
      risk: z.string().nullable(),
      account_name: z.string().nullable(),
      outcome: z.string(),
      notional_usdt: z.number().nullable().describe('For orders: the USDT value the guards checked.'),
      input: z.unknown().describe('The call\'s input, with secrets redacted.'),
      detail: z.unknown().describe('For refusals and failures: the reason and the limit involved.'),
      duration_ms: z.number(),
    }),
  ),
  http: { method: 'GET', path: '/audit/events' },
  handler: async (f, ctx) => {
    const conds: SQL[] = [];
    if (f.account_name) conds.push(eq(auditEvents.accountName, f.account_name));
    // A principal limited to some accounts sees the events of those accounts, and its own calls that named none.
    const scope = scopeList(ctx.principal);
    if (scope) conds.push(or(inArray(auditEvents.accountName, scope), and(isNull(auditEvents.accountName), eq(auditEvents.principal, ctx.principal.name)))!);
    if (f.principal) conds.push(eq(auditEvents.principal, f.principal));
    if (f.command) conds.push(eq(auditEvents.command, f.command));
    if (f.outcome) conds.push(eq(auditEvents.outcome, f.outcome));
    if (f.channel) conds.push(eq(auditEvents.channel, f.channel));
    if (f.since !== undefined) conds.push(gte(auditEvents.at, new Date(f.since)));
    if (f.until !== undefined) conds.push(lte(auditEvents.at, new Date(f.until)));
    if (f.cursor) conds.push(lt(auditEvents.id, Number(f.cursor)));
    const limit = pageLimit(f.limit, ctx);
    // Reads are journaled in batches; flush so a search sees the calls made just before it.
    await ctx.services.audit.flush();
    const rows = await ctx.services.db.select().from(auditEvents).where(and(...conds)).orderBy(desc(auditEvents.id)).limit(limit + 1);
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return {
      data: page.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        channel: r.channel,
        principal: r.principal,
        command: r.command,
        risk: r.risk,
        account_name: r.accountName,
        outcome: r.outcome,
        notional_usdt: r.notional === null ? null : Number(r.notional),
        input: r.input,
        detail: r.detail,
        duration_ms: r.durationMs,
      })),
      pagination: { limit, has_more: more, next_cursor: more ? String(page[page.length - 1]!.id) : null },
    };
  },
});
