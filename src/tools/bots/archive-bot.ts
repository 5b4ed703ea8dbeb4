import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { BotIdIn, BotOut, botView, findBot } from './schemas.js';

export const archiveBot = defineCommand({
  name: 'bots_archive_bot',
  group: 'bots',
  title: 'Archive bot',
  description:
    'Retires a bot for good: stops it if it runs (cancelling its open orders), removes its container or process leftovers and its broker login. It cannot be started again and its id stays taken; its runs, fills, events, performance and logs stay readable. Archiving an archived bot changes nothing.',
  risk: 'destructive',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({ bot_id: BotIdIn }),
  output: z.object({ bot: BotOut }),
  http: { method: 'POST', path: '/bot-orchestration/bots/{bot_id}/archive' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    if (row.archivedAt) return { bot: botView(row) };
    return { bot: botView(await ctx.services.bots.archive(row.id)) };
  },
});
