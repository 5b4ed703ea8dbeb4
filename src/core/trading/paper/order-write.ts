import type { AuditEvent } from '../../audit/audit-log.js';
import { auditRow } from '../../audit/audit-log.js';
import type { FillRow, OrderRow } from '../../db/schema/index.js';
import { statement, type Queryable } from '../../db/sql-runner.js';
import type { BalanceDelta, FillPlan, HeldPosition } from '../matching/match.js';

/**
 * Everything one paper order changes, in one statement: the order row, its fills, the balance changes
 * (as deltas on the stored rows, so the CHECK constraints of paper_balances stand guard over the
 * arithmetic; an asset the account never held is inserted, not upserted, because Postgres checks an
 * upsert's proposed row before it finds the conflict), the position,
 * and the call's journal row. One round trip instead of one per row, and all of it or none of it.
 */
const WRITE_ORDER = statement(
  'td_write_order',
  `with o as (
     insert into orders (id, client_order_id, account_name, connector_name, trading_pair, side, order_type, amount, price,
       position_action, leverage, status, filled_amount, average_fill_price, fee_paid, fee_asset, reserved_asset,
       reserved_amount, error_message, request_hash, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)
     returning id
   ), f as (
     insert into fills (fill_id, order_id, account_name, connector_name, trading_pair, side, price, amount, fee, fee_asset, is_maker, realized_pnl, at)
     select o.id || '-' || n.i, o.id, $3, $4, $5, $6, n.price, n.amount, n.fee, $16, $22, n.realized_pnl, $21
       from o, unnest($23::numeric[], $24::numeric[], $25::numeric[], $26::numeric[]) with ordinality as n(price, amount, fee, realized_pnl, i)
     returning 1
   ), b as (
     update paper_balances pb set total = pb.total + d.total, locked = pb.locked + d.locked, updated_at = $21
       from o, unnest($27::text[], $28::numeric[], $29::numeric[]) as d(asset, total, locked)
      where pb.account_name = $3 and pb.connector_name = $4 and pb.asset = d.asset
     returning pb.asset
   ), bn as (
     insert into paper_balances (account_name, connector_name, asset, total, locked, updated_at)
     select $3, $4, d.asset, d.total, d.locked, $21 from o, unnest($27::text[], $28::numeric[], $29::numeric[]) as d(asset, total, locked)
      where d.asset not in (select asset from b)
     returning 1
   ), p as (
     insert into positions as ps (account_name, connector_name, trading_pair, amount, entry_price, leverage, margin, realized_pnl, updated_at)
     select $3, $4, $5, $30, $31, $32, $33, $34, $21 from o where $30::numeric is not null
     on conflict (account_name, connector_name, trading_pair)
       do update set amount = excluded.amount, entry_price = excluded.entry_price, leverage = excluded.leverage,
         margin = excluded.margin, realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at
     returning 1
   ), a as (
     insert into audit_events (at, channel, principal, command, risk, input, outcome, duration_ms, request_id, account_name, notional, counts_to_budget, fingerprint, detail)
     select $35, $36, $37, $38, $39, $40::jsonb, $41, $42, $43, $44, $45, $46, $47, $48::jsonb from o where $35::timestamptz is not null
     returning 1
   )
   select (select count(*) from f)::int as fills, ((select count(*) from b) + (select count(*) from bn))::int as balances, (select count(*) from p)::int as positions, (select count(*) from a)::int as journaled`,
);

export interface OrderWrite {
  order: OrderRow;
  fills: FillPlan[];
  deltas: BalanceDelta[];
  position: HeldPosition | null;
  /** The call's journal row, written with the order; null when the caller journals it itself. */
  journal: AuditEvent | null;
}

const s = (d: { toFixed(): string } | null | undefined) => (d == null ? null : d.toFixed());

/** Stores one order with everything it changed; returns the order and its fills as stored. */
export async function writeOrder(q: Queryable, w: OrderWrite): Promise<{ order: OrderRow; fills: FillRow[] }> {
  const o = w.order;
  const j = w.journal ? auditRow(w.journal) : null;
  await q.query(WRITE_ORDER, [
    o.id, o.clientOrderId, o.accountName, o.connectorName, o.tradingPair, o.side, o.orderType, o.amount, o.price,
    o.positionAction, o.leverage, o.status, o.filledAmount, o.averageFillPrice, o.feePaid, o.feeAsset, o.reservedAsset,
    o.reservedAmount, o.errorMessage, o.requestHash, o.createdAt,
    w.fills[0]?.isMaker ?? false,
    w.fills.map((f) => f.price.toFixed()), w.fills.map((f) => f.amount.toFixed()), w.fills.map((f) => f.fee.toFixed()), w.fills.map((f) => s(f.realizedPnl)),
    w.deltas.map((d) => d.asset), w.deltas.map((d) => d.total.toFixed()), w.deltas.map((d) => d.locked.toFixed()),
    s(w.position?.amount), s(w.position?.entryPrice), w.position?.leverage ?? null, s(w.position?.margin), s(w.position?.realizedPnl),
    j?.at ?? null, j?.channel ?? null, j?.principal ?? null, j?.command ?? null, j?.risk ?? null, j ? JSON.stringify(j.input ?? null) : null,
    j?.outcome ?? null, j?.durationMs ?? null, j?.requestId ?? null, j?.accountName ?? null, j?.notional ?? null, j?.countsToBudget ?? false,
    j?.fingerprint ?? null, j ? JSON.stringify(j.detail ?? null) : null,
  ]);
  const fills: FillRow[] = w.fills.map((f, i) => ({
    id: 0,
    fillId: `${o.id}-${i + 1}`,
    orderId: o.id,
    accountName: o.accountName,
    connectorName: o.connectorName,
    tradingPair: o.tradingPair,
    side: o.side,
    price: f.price.toFixed(),
    amount: f.amount.toFixed(),
    fee: f.fee.toFixed(),
    feeAsset: o.feeAsset!,
    isMaker: f.isMaker,
    realizedPnl: s(f.realizedPnl),
    at: o.createdAt,
  }));
  return { order: o, fills };
}
