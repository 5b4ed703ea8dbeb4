import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { paginated } from '../../core/schema.js';
import { BotCursor, BotIdIn, findBot, FillOut, fillView } from './schemas.js';

export const listBotFills = defineCommand({
  name: 'bots_list_fills',
  group: 'bots',
  title: 'List bot fills',
  description: "A bot's trade history: its fills, newest first (pair, side, price, base amount, fee), paged with cursor. Each fill is stored once, over all of the bot's runs.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ bot_id: BotIdIn, limit: PageLimit, cursor: BotCursor }),
  output: paginated(FillOut),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/history' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const page = await ctx.services.bots.fills(row.id, { limit: pageLimit(input.limit, ctx), ...(input.cursor ? { cursor: input.cursor } : {}) });
    return { data: page.data.map(fillView), pagination: page.pagination };
  },
});
