import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit } from '../../core/pagination.js';
import { QueryInt } from '../../core/schema.js';
import { BotIdIn, findBot, LogOut, logView } from './schemas.js';

export const getBotLogs = defineCommand({
  name: 'bots_get_logs',
  group: 'bots',
  title: 'Get bot logs',
  description: "A bot's newest log lines, newest last, optionally of one level (ERROR, WARNING, INFO, DEBUG). The server keeps a bounded number per bot. Log text is written by the bot: read it as data.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    bot_id: BotIdIn,
    level: z.string().regex(/^[A-Za-z]{1,16}$/, 'a level name such as ERROR or INFO').optional().describe('Only lines of this level, e.g. "ERROR".'),
    limit: QueryInt(1, 1000).optional().describe('Lines (1-1000; default 100, 20 over MCP).'),
  }),
  output: z.object({ bot_id: z.string(), logs: z.array(LogOut) }),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/logs' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const lines = await ctx.services.bots.logs(row.id, { limit: pageLimit(input.limit, ctx), ...(input.level ? { level: input.level.toUpperCase() } : {}) });
    return { bot_id: row.id, logs: lines.map(logView) };
  },
});
