import { AppError } from '../../errors.js';
import type { FillRow, OrderRow } from '../../db/schema/index.js';
import { statement, type Queryable } from '../../db/sql-runner.js';
import { Decimal } from '../../decimal.js';
import type { Balance, HeldPosition, Holdings } from '../matching/match.js';

/**
 * Takes the account's row lock for the rest of the transaction. Every change to an account's paper
 * ledger (a placement, a resting fill, a cancel) takes it first, in this process or another one on the
 * same database, so the reads that follow see every change committed before, and nothing changes
 * under them until this transaction ends. FOR NO KEY UPDATE does not block the foreign-key checks of
 * rows that merely reference the account.
 */
export const LOCK_ACCOUNT = statement('td_lock_account', `select name from accounts where name = $1 for no key update`);

export async function lockAccount(q: Queryable, account: string): Promise<void> {
  const rows = await q.query(LOCK_ACCOUNT, [account]);
  if (rows.length === 0) throw new AppError('NOT_FOUND', `There is no account named ${account}.`, { hint: 'GET /accounts lists them.' });
}

/** One read of what an order needs from the ledger, after the lock: each part is an index lookup. */
const READ_LEDGER = statement(
  'td_read_ledger',
  `select
     exists (select 1 from account_connectors where account_name = $1 and connector_name = $2) as attached,
     (select json_build_object('id', id, 'request_hash', request_hash) from orders where account_name = $1 and client_order_id = $3) as existing,
     (select coalesce(json_agg(json_build_object('asset', asset, 'total', total::text, 'locked', locked::text)), '[]'::json)
        from paper_balances where account_name = $1 and connector_name = $2) as balances,
     (select coalesce(json_agg(json_build_object('pair', trading_pair, 'amount', amount::text, 'entry_price', entry_price::text, 'margin', margin::text, 'leverage', leverage, 'realized_pnl', realized_pnl::text)), '[]'::json)
        from positions where account_name = $1 and connector_name = $2) as positions,
     (select leverage from leverage_settings where account_name = $1 and connector_name = $2 and trading_pair = $4) as leverage_setting,
     (select coalesce(sum(amount - filled_amount), 0)::text from orders
        where account_name = $1 and connector_name = $2 and trading_pair = $4 and side = $5
          and status in ('open', 'partially_filled', 'pending_submit') and (position_action is null or position_action <> 'close')) as resting_same_side`,
);

interface LedgerRow {
  attached: boolean;
  existing: { id: string; request_hash: string } | null;
  balances: Array<{ asset: string; total: string; locked: string }>;
  positions: Array<{ pair: string; amount: string; entry_price: string; margin: string; leverage: number; realized_pnl: string }>;
  leverage_setting: number | null;
  resting_same_side: string;
}

/** What the account holds on one connector, as one order sees it under the account lock. */
export interface Ledger extends Holdings {
  attached: boolean;
  /** The order already placed under this client_order_id, if any. */
  existing: { id: string; requestHash: string } | null;
  /** Base amount of this account's resting orders on the pair and side (closes excluded): the position cap counts them. */
  restingSameSide: Decimal;
}

export async function readLedger(q: Queryable, account: string, connector: string, clientOrderId: string | null, pair: string, side: 'buy' | 'sell'): Promise<Ledger> {
  const [r] = await q.query<LedgerRow>(READ_LEDGER, [account, connector, clientOrderId, pair, side]);
  const row = r!;
  const balances = new Map<string, Balance>();
  for (const b of row.balances) balances.set(b.asset, { total: new Decimal(b.total), locked: new Decimal(b.locked) });
  const positions = new Map<string, HeldPosition>();
  for (const p of row.positions) {
    positions.set(p.pair, { amount: new Decimal(p.amount), entryPrice: new Decimal(p.entry_price), margin: new Decimal(p.margin), leverage: p.leverage, realizedPnl: new Decimal(p.realized_pnl) });
  }
  return {
    attached: row.attached,
    existing: row.existing && { id: row.existing.id, requestHash: row.existing.request_hash },
    balances,
    positions,
    leverageSetting: row.leverage_setting ?? 1,
    restingSameSide: new Decimal(row.resting_same_side),
  };
}

/** The columns of an order row under the names the rest of the code uses. */
const ORDER_COLUMNS = `id, client_order_id as "clientOrderId", account_name as "accountName", connector_name as "connectorName",
  trading_pair as "tradingPair", side, order_type as "orderType", amount::text as amount, price::text as price,
  position_action as "positionAction", leverage, status, filled_amount::text as "filledAmount",
  average_fill_price::text as "averageFillPrice", fee_paid::text as "feePaid", fee_asset as "feeAsset",
  reserved_asset as "reservedAsset", reserved_amount::text as "reservedAmount", exchange_order_id as "exchangeOrderId",
  error_message as "errorMessage", request_hash as "requestHash", created_at as "createdAt", updated_at as "updatedAt"`;

const ORDER_BY_ID = statement('td_order_by_id', `select ${ORDER_COLUMNS} from orders where id = $1`);
const FILLS_OF_ORDER = statement(
  'td_fills_of_order',
  `select id::int as id, fill_id as "fillId", order_id as "orderId", account_name as "accountName", connector_name as "connectorName",
     trading_pair as "tradingPair", side, price::text as price, amount::text as amount, fee::text as fee, fee_asset as "feeAsset",
     is_maker as "isMaker", realized_pnl::text as "realizedPnl", at
   from fills where order_id = $1 order by id`,
);

/**
 * A paper order found still `pending_submit` under the account lock is not in flight: it was stored by
 * a version that wrote an order before executing it, and its execution was cut off (a crash or a
 * database outage). Its fills never committed, so it is marked failed, as a restart would.
 */
const SETTLE_INTERRUPTED = statement(
  'td_settle_interrupted',
  `update orders set status = 'failed', error_message = 'interrupted before it was executed (the database became unreachable); nothing was executed', updated_at = $2
    where id = $1 and status = 'pending_submit'`,
);

/** An order and its fills, read inside the transaction (a replayed order's answer). */
export async function readOrder(q: Queryable, id: string, now: Date): Promise<{ order: OrderRow; fills: FillRow[] }> {
  await q.query(SETTLE_INTERRUPTED, [id, now]);
  const [order] = await q.query<OrderRow>(ORDER_BY_ID, [id]);
  const fills = await q.query<FillRow>(FILLS_OF_ORDER, [id]);
  return { order: order!, fills };
}
