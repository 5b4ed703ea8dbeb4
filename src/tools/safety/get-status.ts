import { z } from 'zod';
import { defineCommand, inScope } from '../../core/command/index.js';
import { AccountName } from '../../core/schema.js';
import { KillSwitchOut, PolicyOut, killSwitchView, policyView } from './schemas.js';

export const getStatus = defineCommand({
  name: 'safety_get_status',
  group: 'safety',
  title: 'Safety status',
  description:
    'The guardrails in force: each account\'s mode and limits, 24 h budget left, orders in the last minute, kill switches and recent refusals. Read it before trading and after a refusal.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ account_name: AccountName.optional().describe('Only this account (default: all).') }),
  output: z.object({
    global_kill_switch: KillSwitchOut.nullable(),
    accounts: z.array(
      z.object({
        account_name: z.string(),
        policy: PolicyOut,
        kill_switch: KillSwitchOut.nullable(),
        trading_blocked: z.boolean().describe('True when a kill switch or disabled mode blocks new risk (not cancels or closes).'),
        used_24h_notional: z.number().describe('Risk-increasing USDT in the last 24 h.'),
        remaining_24h_notional: z.number().nullable(),
        orders_last_minute: z.number().int(),
      }),
    ),
    recent_denials: z.array(z.object({ at: z.string(), principal: z.string(), channel: z.string(), command: z.string(), account_name: z.string().nullable(), code: z.string(), message: z.string().nullable() })),
  }),
  http: { method: 'GET', path: '/safety/status' },
  handler: async (input, ctx) => {
    const all = await ctx.services.safety.status(input.account_name);
    // A principal limited to some accounts sees only theirs, and only denials on them or its own.
    const s = {
      ...all,
      accounts: all.accounts.filter((a) => inScope(ctx.principal, a.policy.account_name)),
      denials: all.denials.filter((d) => inScope(ctx.principal, d.account_name) || (d.account_name === null && d.principal === ctx.principal.name)),
    };
    return {
      global_kill_switch: s.global ? killSwitchView(s.global) : null,
      accounts: s.accounts.map((a) => ({
        account_name: a.policy.account_name,
        policy: policyView(a.policy),
        kill_switch: a.killSwitch ? killSwitchView(a.killSwitch) : null,
        trading_blocked: s.global !== null || a.killSwitch !== null || a.policy.mode === 'disabled',
        used_24h_notional: a.spent24h.toDecimalPlaces(2).toNumber(),
        remaining_24h_notional: a.remaining24h ? a.remaining24h.toDecimalPlaces(2).toNumber() : null,
        orders_last_minute: a.ordersLastMinute,
      })),
      recent_denials: s.denials.map((d) => ({
        at: d.at.toISOString(),
        principal: d.principal,
        channel: d.channel,
        command: d.command,
        account_name: d.account_name,
        code: d.outcome,
        message: typeof (d.detail as { message?: unknown } | null)?.message === 'string' ? (d.detail as { message: string }).message : null,
      })),
    };
  },
});
