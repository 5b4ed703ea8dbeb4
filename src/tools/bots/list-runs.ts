import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit } from '../../core/pagination.js';
import { QueryInt } from '../../core/schema.js';
import { BotIdIn, findBot, RunOut, runView } from './schemas.js';

export const listBotRuns = defineCommand({
  name: 'bots_list_runs',
  group: 'bots',
  title: 'List bot runs',
  description: "A bot's runs, newest first: one per start, with when it started and stopped, how it ended (stopped, error, interrupted by a server stop) and its exit code.",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({ bot_id: BotIdIn, limit: QueryInt(1, 1000).optional().describe('Runs (1-1000; default 100, 20 over MCP).') }),
  output: z.object({ bot_id: z.string(), runs: z.array(RunOut) }),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/runs' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const runs = await ctx.services.bots.runs(row.id, pageLimit(input.limit, ctx));
    return { bot_id: row.id, runs: runs.map(runView) };
  },
});
