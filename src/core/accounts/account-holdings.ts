import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Db } from '../db/client.js';
import { bots, executors, orders, positions } from '../db/schema/index.js';

/** What still trades on an account (or on some of its connectors): counts, zero when nothing does. */
export interface AccountHoldings {
  open_orders: number;
  active_executors: number;
  open_positions: number;
  running_bots: number;
}

/**
 * Counts what an account's removal would strand: resting orders (their funds and history go with the
 * account), executors still managing a position, open positions, and bots meant to run. `connectors`
 * narrows it to those connectors (a bot counts when its strategy trades on one of them). One query at a
 * time: inside a transaction they share its one connection.
 */
export async function accountHoldings(db: Db, account: string, connectors?: readonly string[]): Promise<AccountHoldings> {
  const on = <C>(col: C) => (connectors ? inArray(col as never, connectors as string[]) : sql`true`);
  const count = sql<number>`count(*)::int`;
  const [o] = await db.select({ n: count }).from(orders).where(and(eq(orders.accountName, account), on(orders.connectorName), inArray(orders.status, ['open', 'partially_filled', 'pending_submit'])));
  const [e] = await db.select({ n: count }).from(executors).where(and(eq(executors.accountName, account), on(executors.connectorName), ne(executors.status, 'terminated')));
  const [p] = await db.select({ n: count }).from(positions).where(and(eq(positions.accountName, account), on(positions.connectorName), ne(positions.amount, '0')));
  const names = connectors ? sql`(${sql.join(connectors.map((c) => sql`${c}`), sql`, `)})` : null;
  // A bot's connectors are in its strategy: the script's config, or each controller's.
  const trades = names
    ? sql`(${bots.strategy}->'script'->'config'->>'connector_name' in ${names} or exists (select 1 from jsonb_array_elements(coalesce(${bots.strategy}->'controllers', '[]'::jsonb)) c where c->'config'->>'connector_name' in ${names}))`
    : sql`true`;
  const [b] = await db.select({ n: count }).from(bots).where(and(eq(bots.accountName, account), eq(bots.desiredState, 'running'), sql`${bots.archivedAt} is null`, trades));
  return { open_orders: o!.n, active_executors: e!.n, open_positions: p!.n, running_bots: b!.n };
}

/** CONFLICT naming what still trades, or nothing; `what` says what would be removed ("Account x", "sim on x"). */
export async function refuseWhileTrading(db: Db, account: string, what: string, connectors?: readonly string[]): Promise<void> {
  const held = await accountHoldings(db, account, connectors);
  const parts = [
    held.open_orders && `${held.open_orders} open order(s)`,
    held.active_executors && `${held.active_executors} active executor(s)`,
    held.open_positions && `${held.open_positions} open position(s)`,
    held.running_bots && `${held.running_bots} running bot(s)`,
  ].filter(Boolean);
  if (parts.length === 0) return;
  throw new AppError('CONFLICT', `${what} still has ${parts.join(', ')}; removing it would leave them unmanaged${connectors ? '' : ' and delete its order history'}.`, {
    hint: `Stop them first (GET /executors?account_name=${account}&status=running, then POST /executors/{executor_id}/stop; DELETE /trading/orders/{order_id}; POST /trading/close-position; POST /bot-orchestration/bots/{bot_id}/stop), then remove it.`,
    details: { account_name: account, ...(connectors ? { connectors } : {}), ...held },
  });
}
