import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { pageLimit } from '../../core/pagination.js';
import { QueryInt } from '../../core/schema.js';
import { BotIdIn, EventOut, eventView, findBot } from './schemas.js';

export const listBotEvents = defineCommand({
  name: 'bots_list_events',
  group: 'bots',
  title: 'List bot events',
  description: "A bot's newest events (orders created, filled, cancelled, failed...), oldest of them first, optionally of one type; each with the event as the bot sent it (reported, written by the bot).",
  risk: 'read',
  idempotent: true,
  openWorld: false,
  input: z.strictObject({
    bot_id: BotIdIn,
    type: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'an event type such as OrderFilledEvent').optional().describe('Only events of this type.'),
    limit: QueryInt(1, 1000).optional().describe('Events (1-1000; default 100, 20 over MCP).'),
  }),
  output: z.object({ bot_id: z.string(), events: z.array(EventOut) }),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/events' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const events = await ctx.services.bots.events(row.id, { limit: pageLimit(input.limit, ctx), ...(input.type ? { type: input.type } : {}) });
    return { bot_id: row.id, events: events.map(eventView) };
  },
});
