import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { redactValue } from '../../core/secrets/redact.js';
import { BotIdIn, BotOut, botView, findBot, LogOut, logView, RunOut, runView } from './schemas.js';

export const getBotStatus = defineCommand({
  name: 'bots_get_status',
  group: 'bots',
  title: 'Get bot status',
  description:
    "One bot as the server sees it (desired and observed state, strategy), its current or last run, the bot's own status answer when it runs (reported; for a Hummingbot bot, which cannot answer, a status the server derived from heartbeats, performance reports and its container, with reported_by: server), why it ended when it crashed (exit code and last output lines), and its newest log lines. Then bots_get_performance for PnL, bots_list_fills for trades, bots_get_logs for more logs.",
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: 'filtered',
  input: z.strictObject({ bot_id: BotIdIn }),
  output: z.object({
    bot: BotOut,
    run: RunOut.nullable().describe('The last run (open while the bot runs).'),
    reported: z.record(z.string(), z.unknown()).nullable().describe("The bot's answer to a status request (text written by the bot), or what the server derived (reported_by: server); null when there is neither."),
    reported_by: z.enum(['bot', 'server']).nullable().describe('bot: the bot answered; server: derived by the server from heartbeats, performance reports and the container state (a Hummingbot bot answers status with an error).'),
    crash: z.object({ exit_code: z.number().int().nullable(), log_lines: z.array(z.string()).describe('Its last output lines.') }).nullable().describe('Set when the bot ended on its own.'),
    logs: z.array(LogOut).describe('Its newest log lines (up to 20), newest last.'),
  }),
  http: { method: 'GET', path: '/bot-orchestration/bots/{bot_id}/status' },
  handler: async (input, ctx) => {
    const row = await findBot(input.bot_id, ctx);
    const s = await ctx.services.bots.status(row.id);
    return {
      bot: botView(s.bot),
      run: s.run ? runView(s.run) : null,
      reported: s.live ? (redactValue(s.live) as Record<string, unknown>) : null,
      reported_by: s.liveSource === 'derived' ? ('server' as const) : s.liveSource,
      crash: s.crash ? { exit_code: s.crash.exitCode, log_lines: s.crash.tail.map((l) => redactValue(l) as string) } : null,
      logs: s.recentLogs.map(logView),
    };
  },
});
