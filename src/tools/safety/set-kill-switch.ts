import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName, QueryBool } from '../../core/schema.js';
import { KillSwitchOut, killSwitchView, Reason, REASON_MAX } from './schemas.js';

export const setKillSwitch = defineCommand({
  name: 'safety_set_kill_switch',
  group: 'safety',
  title: 'Set kill switch',
  description:
    'Stops new risk at once, on one account or (without account_name) on all. New orders and leverage changes are refused until an admin clears it over REST (an agent never can); cancels, closes and reduce-only orders keep working. It survives restarts and can cancel the open orders and stop the bots it covers. Use it when something goes wrong.',
  risk: 'write',
  idempotent: true,
  openWorld: true,
  accountScope: 'named',
  input: z.strictObject({
    account_name: AccountName.optional().describe('The account to stop; omit for the global switch (all accounts).'),
    reason: Reason.describe(`Why, in a sentence (at most ${REASON_MAX} characters): shown to whoever clears it.`),
    cancel_open_orders: QueryBool.optional().describe('Also cancel the open orders it covers (default false).'),
    stop_bots: QueryBool.optional().describe('Also stop the bots trading what it covers (default false); clearing it leaves them stopped.'),
  }),
  output: z.object({
    kill_switch: KillSwitchOut,
    already_active: z.boolean().describe('It was already on; the first reason and time are kept.'),
    canceled_order_ids: z.array(z.string()),
    cancel_failures: z.array(z.object({ order_id: z.string(), code: z.string(), message: z.string() })),
    stopped_bot_ids: z.array(z.string()),
  }),
  http: { method: 'POST', path: '/safety/kill-switch' },
  handler: async (input, ctx) => {
    const account = input.account_name ?? null;
    const r = await ctx.services.safety.setKillSwitch(account, input.reason, ctx.principal.name, input.cancel_open_orders ?? false);
    // After the switch is on, so a bot being stopped can no longer add risk meanwhile.
    const stopped = input.stop_bots ? await ctx.services.bots.stopBotsFor(account ? [account] : null, input.reason) : [];
    return { kill_switch: killSwitchView(r.state), already_active: r.already_active, canceled_order_ids: r.canceled, cancel_failures: r.failed, stopped_bot_ids: stopped };
  },
});
