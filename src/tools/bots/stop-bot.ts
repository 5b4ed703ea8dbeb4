import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { BotIdIn, BotOut, botView, findBot } from './schemas.js';

export const stopBot = defineCommand({
  name: 'bots_stop_bot',
  group: 'bots',
  title: 'Stop bot',
  description:
    'Stops a bot: its strategy cancels its open orders (unless skip_order_cancellation) and stops, then its process ends; the server keeps it stopped, also across restarts. Positions are left as they are. Stopping a stopped bot changes nothing. bots_start_bot starts it again; bots_archive_bot retires it.',
  risk: 'destructive',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({
    bot_id: BotIdIn,
    skip_order_cancellation: z.boolean().default(false).describe('true: leave its open orders on the book; false (default): cancel them.'),
  }),
  output: z.object({ bot: BotOut, skip_order_cancellation: z.boolean() }),
  http: { method: 'POST', path: '/bot-orchestration/bots/{bot_id}/stop' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const after = await ctx.services.bots.stop(row.id, { skipOrderCancellation: input.skip_order_cancellation });
    return { bot: botView(after), skip_order_cancellation: input.skip_order_cancellation };
  },
});
