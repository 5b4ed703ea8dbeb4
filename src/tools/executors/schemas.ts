import { z } from 'zod';
import type { ExecutorRow } from '../../core/db/schema/index.js';
import { EXECUTOR_ROW_STATUSES } from '../../core/db/schema/index.js';
import { KeysetCursor } from '../../core/keyset-cursor.js';
import { EXECUTOR_ID_RE } from '../../core/strategy/executors/configs.js';
import { EXECUTOR_TYPES } from '../../core/strategy/executors/configs.js';
import { CLOSE_TYPES } from '../../core/strategy/types.js';

export const ExecutorIdIn = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'an executor id (letters, digits, _ . : -)')
  .describe('The executor_id that executors_create_executor returned.');

export const ExecutorType = z.enum(EXECUTOR_TYPES);

export const ExecutorCursor = KeysetCursor(EXECUTOR_ID_RE);

const num = (v: unknown) => (typeof v === 'string' && v !== '' ? Number(v) : null);

/** An executor as listed: identity, state and its PnL so far (numbers; the server keeps them as decimals). */
export const ExecutorOut = z.object({
  executor_id: z.string(),
  executor_type: ExecutorType,
  account_name: z.string(),
  connector_name: z.string(),
  trading_pair: z.string(),
  side: z.enum(['buy', 'sell']).nullable(),
  controller_id: z.string().nullable(),
  status: z.enum(EXECUTOR_ROW_STATUSES).describe('active: trading; shutting_down: closing its orders or position; terminated: ended (see close_type).'),
  is_active: z.boolean(),
  close_type: z.enum(CLOSE_TYPES).nullable().describe('Why it ended: STOP_LOSS, TAKE_PROFIT, TIME_LIMIT, TRAILING_STOP, EARLY_STOP (stopped), POSITION_HOLD (stopped keeping the position), INSUFFICIENT_BALANCE, FAILED, COMPLETED...'),
  stop_requested: z.boolean(),
  net_pnl_quote: z.number().nullable().describe('Realized plus unrealized PnL in the quote asset, net of fees.'),
  net_pnl_pct: z.number().nullable().describe('net_pnl_quote over the quote amount put at risk (0.01 = 1%).'),
  cum_fees_quote: z.number().nullable(),
  filled_amount_quote: z.number().nullable().describe('Quote volume traded, both legs.'),
  error_count: z.number().int(),
  last_error: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  closed_at: z.string().nullable(),
});

export function executorView(row: ExecutorRow, live: Record<string, unknown> | null): z.input<typeof ExecutorOut> {
  const report = live ?? row.report ?? {};
  return {
    executor_id: row.id,
    executor_type: row.type as z.infer<typeof ExecutorType>,
    account_name: row.accountName,
    connector_name: row.connectorName,
    trading_pair: row.tradingPair,
    side: (row.side as 'buy' | 'sell' | null) ?? null,
    controller_id: row.controllerId,
    status: row.status,
    is_active: row.status !== 'terminated',
    close_type: (row.closeType as z.infer<typeof ExecutorOut>['close_type']) ?? null,
    stop_requested: row.stopRequest !== null,
    net_pnl_quote: num(report.net_pnl_quote),
    net_pnl_pct: num(report.net_pnl_pct),
    cum_fees_quote: num(report.cum_fees_quote),
    filled_amount_quote: num(report.filled_amount_quote),
    error_count: row.runtime.error_count,
    last_error: row.runtime.last_error,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    closed_at: row.closedAt?.toISOString() ?? null,
  };
}

/** The report of one executor: position and PnL in detail. */
export const ReportOut = z.object({
  position_amount: z.number().nullable().describe('Base amount still held by the executor (0 once closed; what was kept with keep_position).'),
  entry_price: z.number().nullable(),
  realized_pnl_quote: z.number().nullable(),
  unrealized_pnl_quote: z.number().nullable(),
  net_pnl_quote: z.number().nullable(),
  net_pnl_pct: z.number().nullable(),
  cum_fees_quote: z.number().nullable(),
  filled_amount_quote: z.number().nullable(),
  custom_info: z.record(z.string(), z.unknown()).describe('Type-specific state: barrier prices, levels, next slice...'),
});

export function reportView(report: Record<string, unknown> | null): z.input<typeof ReportOut> {
  const r = report ?? {};
  return {
    position_amount: num(r.position_amount),
    entry_price: num(r.entry_price),
    realized_pnl_quote: num(r.realized_pnl_quote),
    unrealized_pnl_quote: num(r.unrealized_pnl_quote),
    net_pnl_quote: num(r.net_pnl_quote),
    net_pnl_pct: num(r.net_pnl_pct),
    cum_fees_quote: num(r.cum_fees_quote),
    filled_amount_quote: num(r.filled_amount_quote),
    custom_info: (r.custom as Record<string, unknown> | undefined) ?? {},
  };
}
