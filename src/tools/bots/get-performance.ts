import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import { pageLimit } from '../../core/pagination.js';
import { QueryInt, TimeIn } from '../../core/schema.js';
import { BotIdIn, findBot, PerformanceOut, performanceView } from './schemas.js';

export const getBotPerformance = defineCommand({
  name: 'bots_get_performance',
  group: 'bots',
  title: 'Get bot performance',
  description:
    "A bot's performance history: snapshots of each controller's report (realized, unrealized and global PnL in the quote asset and as fractions, volume traded), newest last, optionally of one controller and within start_time..end_time. The last snapshot of a controller is its latest figures.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    bot_id: BotIdIn,
    controller_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'a controller id as the performance reports name it').optional().describe('Only this controller.'),
    start_time: TimeIn.optional().describe('From this time (epoch ms or ISO-8601).'),
    end_time: TimeIn.optional().describe('Up to this time (epoch ms or ISO-8601).'),
    limit: QueryInt(1, 1000).optional().describe('Snapshots (1-1000; default 100, 20 over MCP).'),
  }),
  output: z.object({ bot_id: z.string(), performance: z.array(PerformanceOut) }),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/performance' },
  handler: async (input, ctx) => {
    if (input.start_time !== undefined && input.end_time !== undefined && input.start_time > input.end_time) {
      throw new AppError('VALIDATION_FAILED', 'Invalid input: end_time: before start_time.', { details: { issues: [{ path: 'end_time', message: 'must not be before start_time' }] } });
    }
    const row = await findBot(input.bot_id, ctx);
    const rows = await ctx.services.bots.performance(row.id, {
      limit: pageLimit(input.limit, ctx),
      ...(input.controller_id ? { controllerId: input.controller_id } : {}),
      ...(input.start_time !== undefined ? { from: new Date(input.start_time) } : {}),
      ...(input.end_time !== undefined ? { to: new Date(input.end_time) } : {}),
    });
    return { bot_id: row.id, performance: rows.map(performanceView) };
  },
});
