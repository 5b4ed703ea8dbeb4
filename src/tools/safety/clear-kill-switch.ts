import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AccountName } from '../../core/schema.js';
import { KillSwitchOut, killSwitchView } from './schemas.js';

export const clearKillSwitch = defineCommand({
  name: 'safety_clear_kill_switch',
  group: 'safety',
  title: 'Clear kill switch',
  description: 'Clears a kill switch (one account\'s, or the global one when account_name is omitted) so new orders are accepted again. Admin only, REST only: an agent can never clear one.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  accountScope: 'named',
  input: z.strictObject({ account_name: AccountName.optional().describe('The account whose switch to clear; omit for the global switch.') }),
  output: z.object({ cleared: KillSwitchOut.nullable().describe('The switch that was on, or null if none was.') }),
  http: { method: 'POST', path: '/safety/kill-switch/clear' },
  handler: async (input, ctx) => {
    const cleared = await ctx.services.safety.clearKillSwitch(input.account_name ?? null, ctx.principal.name);
    return { cleared: cleared ? killSwitchView(cleared) : null };
  },
});
