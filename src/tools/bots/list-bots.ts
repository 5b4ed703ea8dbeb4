import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { BOT_DESIRED_STATES, BOT_OBSERVED_STATES } from '../../core/db/schema/index.js';
import { pageLimit, PageLimit } from '../../core/pagination.js';
import { paginated, QueryBool } from '../../core/schema.js';
import { BotCursor, BotOut, botView, botViewer } from './schemas.js';

export const listBots = defineCommand({
  name: 'bots_list_bots',
  group: 'bots',
  title: 'List bots',
  description:
    'Lists bots, newest first: the ones you deployed (an admin sees all), each with its account, strategy, desired state (what the server keeps it at) and observed state (what its process and heartbeats show). Archived bots are left out unless include_archived. Then bots_get_status for one.',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({
    desired_state: z.enum(BOT_DESIRED_STATES).optional().describe('Only bots the server keeps running, or stopped.'),
    observed_state: z.enum(BOT_OBSERVED_STATES).optional().describe('Only bots last seen in this state (error: ended on their own; unreachable: no heartbeat lately).'),
    include_archived: QueryBool.optional().describe('Also list archived bots (default false).'),
    limit: PageLimit,
    cursor: BotCursor,
  }),
  output: paginated(BotOut),
  http: { method: 'GET', path: '/bot-orchestration/bots' },
  handler: async (input, ctx) => {
    const page = await ctx.services.bots.list(botViewer(ctx.principal), {
      ...(input.desired_state ? { desired: input.desired_state } : {}),
      ...(input.observed_state ? { observed: input.observed_state } : {}),
      includeArchived: input.include_archived ?? false,
      limit: pageLimit(input.limit, ctx),
      ...(input.cursor ? { cursor: input.cursor } : {}),
    });
    return { data: page.data.map(botView), pagination: page.pagination };
  },
});
