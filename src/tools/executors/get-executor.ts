import { z } from 'zod';
import { defineCommand, inScope } from '../../core/command/index.js';
import { AppError } from '../../core/errors.js';
import type { ExecutorRow } from '../../core/db/schema/index.js';
import { orderView } from '../../core/trading/order-view.js';
import type { CommandContext } from '../../core/command/index.js';
import { OrderOut } from '../trading/schemas.js';
import { ExecutorIdIn, ExecutorOut, executorView, ReportOut, reportView } from './schemas.js';

/** The executor, if the caller may see its account; one outside the caller's accounts reads as missing. */
export async function findExecutor(id: string, ctx: CommandContext): Promise<ExecutorRow> {
  const row = await ctx.services.executors.store.get(id);
  if (!row) throw new AppError('NOT_FOUND', `There is no executor ${id}.`, { hint: 'GET /executors lists them.' });
  if (!inScope(ctx.principal, row.accountName)) throw new AppError('NOT_FOUND', `There is no executor ${id}.`, { hint: 'GET /executors lists them.' });
  ctx.journal = { ...ctx.journal, accountName: row.accountName };
  return row;
}

export const getExecutor = defineCommand({
  name: 'executors_get_executor',
  group: 'executors',
  title: 'Get executor',
  description: 'One executor in full: its config, status and close type, position and PnL (realized, unrealized, fees, volume), and its latest 200 orders (orders_total counts all it placed).',
  risk: 'read',
  idempotent: true,
  openWorld: false,
  accountScope: 'filtered',
  input: z.strictObject({ executor_id: ExecutorIdIn }),
  output: z.object({
    executor: ExecutorOut,
    config: z.record(z.string(), z.unknown()),
    report: ReportOut,
    orders: z.array(OrderOut).describe('Its latest 200 orders, oldest first.'),
    orders_total: z.number().int().describe('How many orders it placed; more than listed when past 200.'),
  }),
  http: { method: 'GET', path: '/executors/{executor_id}' },
  handler: async (input, ctx) => {
    const { executors } = ctx.services;
    const row = await findExecutor(input.executor_id, ctx);
    const live = executors.liveReport(row.id);
    const placed = await executors.store.orders(row);
    return { executor: executorView(row, live), config: row.config as Record<string, unknown>, report: reportView(live ?? row.report), orders: placed.rows.map(orderView), orders_total: placed.total };
  },
});
