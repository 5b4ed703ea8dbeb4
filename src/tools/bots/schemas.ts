import { z } from 'zod';
import type { CommandContext } from '../../core/command/types.js';
import { KeysetCursor } from '../../core/keyset-cursor.js';
import type { BotViewer } from '../../core/bots/bot-records.js';
import { BotStore } from '../../core/bots/bot-store.js';
import { botIdSchema } from '../../core/bots/topics.js';
import {
  BOT_DESIRED_STATES,
  BOT_OBSERVED_STATES,
  BOT_ON_RESTART,
  BOT_RUN_STATUSES,
  BOT_RUNTIMES,
  type BotEventRow,
  type BotFillRow,
  type BotLogRow,
  type BotPerformanceRow,
  type BotRow,
  type BotRunRow,
  type BotStrategy,
} from '../../core/db/schema/index.js';
import { AppError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { redactValue } from '../../core/secrets/redact.js';

export const BotIdIn = botIdSchema.describe('The bot id chosen at deploy: 1-63 lowercase letters, digits, "-" or "_" (bots_list_bots lists yours).');

export const BotCursor = KeysetCursor();

/** Who may see which bot: an admin every bot; anyone else the bots it deployed, on accounts still in its scope. */
export function botViewer(p: Principal): BotViewer {
  if (p.role === 'admin') return { owner: null, accounts: null };
  return { owner: p.name, accounts: p.accounts ? [...p.accounts] : null };
}

/** The bot, if the caller may see it; someone else's bot reads exactly as a missing one, so ids do not leak. */
export async function findBot(id: string, ctx: CommandContext): Promise<BotRow> {
  const row = await ctx.services.bots.get(id);
  if (!row || !BotStore.visible(row, botViewer(ctx.principal))) {
    throw new AppError('NOT_FOUND', `There is no bot ${id}.`, { hint: 'GET /bot-orchestration/bots lists the bots you can see.', details: { bot_id: id } });
  }
  ctx.journal = { ...ctx.journal, accountName: row.accountName };
  return row;
}

const ConfigOut = z.record(z.string(), z.unknown());

export const StrategyOut = z.object({
  kind: z.enum(['controllers', 'script']),
  controllers: z.array(z.object({ controller_name: z.string(), config: ConfigOut })).nullable().describe('kind controllers: each controller with its config (defaults filled in).'),
  script: z.object({ name: z.string(), config: ConfigOut }).nullable().describe('kind script: the script and its config.'),
});

/** A strategy as shown: configs pass the secret redaction, so a field named like a secret never leaves. */
export function strategyView(s: BotStrategy): z.input<typeof StrategyOut> {
  const clean = (c: Record<string, unknown>) => redactValue(c) as Record<string, unknown>;
  if ('script' in s) return { kind: 'script', controllers: null, script: { name: s.script.name, config: clean(s.script.config) } };
  return { kind: 'controllers', controllers: s.controllers.map((c) => ({ controller_name: c.controller_name, config: clean(c.config) })), script: null };
}

export const BotOut = z.object({
  bot_id: z.string(),
  name: z.string(),
  account_name: z.string().describe('The one account the bot trades; its orders pass the guardrails as principal bot:<bot_id>.'),
  deployed_by: z.string().describe('Who deployed it: the bot trades with their rights, re-checked on every order.'),
  runtime: z.enum(BOT_RUNTIMES).describe('docker: a container; child: a process beside the server.'),
  image: z.string().nullable().describe('The container image (docker runtime).'),
  desired_state: z.enum(BOT_DESIRED_STATES).describe('What the server keeps it at (a restarted server restarts the bots meant to run).'),
  on_restart: z.enum(BOT_ON_RESTART).describe('What a restarted process does with the executors it was running: resume them, or flatten (close their positions at market, cancel their orders) and start afresh.'),
  observed_state: z.enum(BOT_OBSERVED_STATES).describe('What its process and heartbeats last showed: starting, running, stopped, error (it ended on its own), unreachable (no heartbeat lately).'),
  exit_code: z.number().int().nullable(),
  last_heartbeat_at: z.string().nullable(),
  archived: z.boolean().describe('Archived bots are stopped for good; what they reported stays readable.'),
  strategy: StrategyOut,
  created_at: z.string(),
  updated_at: z.string(),
  archived_at: z.string().nullable(),
});

export function botView(row: BotRow): z.input<typeof BotOut> {
  return {
    bot_id: row.id,
    name: row.name,
    account_name: row.accountName,
    deployed_by: row.ownerName,
    runtime: row.runtime,
    image: row.image,
    desired_state: row.desiredState,
    on_restart: row.onRestart,
    observed_state: row.observedState,
    exit_code: row.exitCode,
    last_heartbeat_at: row.lastHeartbeatAt?.toISOString() ?? null,
    archived: row.archivedAt !== null,
    strategy: strategyView(row.strategy),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    archived_at: row.archivedAt?.toISOString() ?? null,
  };
}

/*
 * What a bot itself wrote (its status answer, its events' data, its raw performance reports) is held
 * under `reported`, and its log lines under `logs`: the MCP face quotes every string under those names
 * as untrusted data (src/mcp/untrusted.ts), since a bot's code is not the server's.
 */
const Reported = z.record(z.string(), z.unknown());

export const RunOut = z.object({
  run_id: z.number().int(),
  status: z.enum(BOT_RUN_STATUSES).describe('running; stopped; error (it ended on its own); interrupted (the server stopped under it).'),
  started_at: z.string(),
  stopped_at: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  reported: z.unknown().describe("The bot's last status answer when the run ended, if any (text written by the bot)."),
});

export function runView(r: BotRunRow): z.input<typeof RunOut> {
  return { run_id: r.id, status: r.status, started_at: r.startedAt.toISOString(), stopped_at: r.stoppedAt?.toISOString() ?? null, exit_code: r.exitCode, reported: redactValue(r.finalStatus ?? null) };
}

export const LogOut = z.object({ at: z.string(), level: z.string(), logger: z.string().nullable(), message: z.string() });

export function logView(l: BotLogRow): z.input<typeof LogOut> {
  return { at: l.at.toISOString(), level: l.level, logger: l.logger, message: l.message };
}

export const EventOut = z.object({ event_id: z.number().int(), type: z.string(), at: z.string(), timestamp: z.number().describe('Epoch milliseconds.'), reported: Reported.describe("The event as the bot sent it (text written by the bot).") });

export function eventView(e: BotEventRow): z.input<typeof EventOut> {
  return { event_id: e.id, type: e.type, at: e.at.toISOString(), timestamp: e.at.getTime(), reported: redactValue(e.data) as Record<string, unknown> };
}

/** An identifier a bot reported (a pair, an order id, an asset): shown only when it looks like one. */
const IDENT_RE = /^[A-Za-z0-9_.:/-]{1,128}$/;
const ident = (s: string) => (IDENT_RE.test(s) ? s : '[not shown: not an identifier]');
const num = (v: string | null) => (v === null ? null : Number(v));

export const FillOut = z.object({
  fill_id: z.string(),
  client_order_id: z.string(),
  trading_pair: z.string(),
  side: z.enum(['buy', 'sell']),
  price: z.number(),
  amount: z.number().describe('Base amount.'),
  fee: z.number(),
  fee_asset: z.string().nullable(),
  at: z.string(),
  timestamp: z.number().describe('Epoch milliseconds.'),
});

export function fillView(f: BotFillRow): z.input<typeof FillOut> {
  return {
    fill_id: ident(f.fillId),
    client_order_id: ident(f.clientOrderId),
    trading_pair: ident(f.tradingPair),
    side: f.side,
    price: Number(f.price),
    amount: Number(f.amount),
    fee: Number(f.fee),
    fee_asset: f.feeAsset === null ? null : ident(f.feeAsset),
    at: f.at.toISOString(),
    timestamp: f.at.getTime(),
  };
}

export const PerformanceOut = z.object({
  controller_id: z.string(),
  at: z.string(),
  timestamp: z.number().describe('Epoch milliseconds.'),
  realized_pnl_quote: z.number().nullable(),
  unrealized_pnl_quote: z.number().nullable(),
  realized_pnl_pct: z.number().nullable(),
  unrealized_pnl_pct: z.number().nullable(),
  global_pnl_quote: z.number().nullable().describe('Realized plus unrealized, in the quote asset.'),
  global_pnl_pct: z.number().nullable(),
  volume_traded: z.number().nullable().describe('Quote volume traded.'),
  reported: Reported.describe('The whole report as the bot sent it (positions, close types, custom info).'),
});

export function performanceView(p: BotPerformanceRow): z.input<typeof PerformanceOut> {
  return {
    controller_id: ident(p.controllerId),
    at: p.at.toISOString(),
    timestamp: p.at.getTime(),
    realized_pnl_quote: num(p.realizedPnlQuote),
    unrealized_pnl_quote: num(p.unrealizedPnlQuote),
    realized_pnl_pct: num(p.realizedPnlPct),
    unrealized_pnl_pct: num(p.unrealizedPnlPct),
    global_pnl_quote: num(p.globalPnlQuote),
    global_pnl_pct: num(p.globalPnlPct),
    volume_traded: num(p.volumeTraded),
    reported: redactValue(p.raw) as Record<string, unknown>,
  };
}
