import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { BotIdIn, BotOut, botView, findBot } from './schemas.js';

export const startBot = defineCommand({
  name: 'bots_start_bot',
  group: 'bots',
  title: 'Start bot',
  description:
    'Starts a stopped bot with the strategy it was deployed with (its process or container, then its strategy) and waits until it reports running; starting a running bot changes nothing. Its orders pass the guardrails as bot:<bot_id>. An archived bot cannot start again: deploy a new one. Then bots_get_status.',
  risk: 'destructive',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({ bot_id: BotIdIn }),
  output: z.object({ bot: BotOut }),
  http: { method: 'POST', path: '/bot-orchestration/bots/{bot_id}/start' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    return { bot: botView(await ctx.services.bots.start(row.id)) };
  },
});
