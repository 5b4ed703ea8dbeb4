import type { AuditEvent } from '../../audit/audit-log.js';
import { AppError } from '../../errors.js';
import type { FillRow, OrderRow } from '../../db/schema/index.js';
import { CommitThenThrow, type Queryable } from '../../db/sql-runner.js';
import type { Decimal } from '../../decimal.js';
import { matchOrder, type MatchResult } from '../matching/match.js';
import { orderFields, type OrderPlan } from '../order-plan.js';
import { readOrder, type Ledger } from './ledger-state.js';
import { writeOrder } from './order-write.js';

export interface PlaceResult {
  order: OrderRow;
  fills: FillRow[];
  /** The order already existed under this client_order_id: nothing new was placed. */
  replayed: boolean;
  book_source: string | null;
}

export interface PaperOrderContext {
  now: Date;
  /** Mark prices of the pairs the account holds open positions in (perpetual free margin). */
  marks(pairs: string[]): Promise<Map<string, Decimal>>;
  /** The call's journal row for an outcome, when the caller wants it written with the order. */
  journal?: (outcome: string) => AuditEvent;
}

/**
 * Places one paper order inside the caller's transaction, after the account lock and the ledger read:
 * a retry is answered with the first order, a new one is matched (pure) and stored in one statement.
 * An order the account cannot pay for is stored as rejected (so its retry replays the refusal) and the
 * refusal is thrown after the commit; bad input stores nothing.
 */
export async function placePaperOrder(q: Queryable, plan: OrderPlan, ledger: Ledger, ctx: PaperOrderContext): Promise<PlaceResult> {
  const { req, venue } = plan;
  if (ledger.existing) {
    if (ledger.existing.requestHash !== plan.requestHash) {
      throw new AppError('CONFLICT', `client_order_id ${req.client_order_id} was already used for a different order (${ledger.existing.id}).`, {
        hint: 'Use a new client_order_id for a new order; reuse one only to retry the same order.',
        details: { order_id: ledger.existing.id },
      });
    }
    return { ...(await readOrder(q, ledger.existing.id, ctx.now)), replayed: true, book_source: null };
  }
  if (!ledger.attached) {
    throw new AppError('PRECONDITION_FAILED', `Account ${req.account_name} has no ${req.connector_name} connector.`, {
      hint: `An admin attaches it with PUT /accounts/${req.account_name}; paper and sim connectors need no credentials.`,
    });
  }
  if (plan.refusal) throw plan.refusal;
  const market = { base: venue.market.base, quote: venue.market.quote, marketType: venue.marketType };
  const terms = { side: req.side, orderType: req.order_type, amount: plan.amount, price: plan.price, positionAction: req.position_action ?? null, leverage: req.leverage ?? null, tradingPair: req.trading_pair };
  const open = [...ledger.positions].filter(([, p]) => !p.amount.isZero()).map(([pair]) => pair);
  const marks = venue.marketType === 'perpetual' && open.length ? await ctx.marks(open) : new Map<string, Decimal>();
  let match: MatchResult;
  try {
    match = matchOrder(terms, market, plan.book, ledger, marks);
  } catch (err) {
    if (!(err instanceof AppError) || err.code === 'VALIDATION_FAILED') throw err;
    // The engine refused it: stored as rejected, with the refusal as its journal outcome, then thrown.
    const row = orderRow(plan, ctx.now, { status: 'rejected', errorMessage: err.message, leverage: req.leverage ?? null });
    await writeOrder(q, { order: row, fills: [], deltas: [], position: null, journal: ctx.journal?.(err.code) ?? null });
    throw new CommitThenThrow(err);
  }
  const row = orderRow(plan, ctx.now, {
    status: match.status,
    errorMessage: match.errorMessage,
    leverage: match.leverage,
    filledAmount: match.filled.toFixed(),
    averageFillPrice: match.averagePrice?.toFixed() ?? null,
    feePaid: match.feePaid.toFixed(),
    feeAsset: match.fills.length ? market.quote : null,
    reservedAsset: match.reserved?.asset ?? null,
    reservedAmount: (match.reserved?.amount ?? '0').toString(),
  });
  const stored = await writeOrder(q, { order: row, fills: match.fills, deltas: match.deltas, position: match.position, journal: ctx.journal?.('OK') ?? null });
  return { ...stored, replayed: false, book_source: venue.bookSource };
}

/** A what-if: the refusal this order would get against this ledger now, or null. Changes nothing. */
export async function paperRefusal(plan: OrderPlan, ledger: Ledger, ctx: Pick<PaperOrderContext, 'marks'>): Promise<AppError | null> {
  if (!ledger.attached) return new AppError('PRECONDITION_FAILED', `Account ${plan.req.account_name} has no ${plan.req.connector_name} connector.`, { hint: `An admin attaches it with PUT /accounts/${plan.req.account_name}.` });
  if (plan.refusal) return plan.refusal;
  const { req, venue } = plan;
  const open = [...ledger.positions].filter(([, p]) => !p.amount.isZero()).map(([pair]) => pair);
  try {
    const marks = venue.marketType === 'perpetual' && open.length ? await ctx.marks(open) : new Map<string, Decimal>();
    matchOrder({ side: req.side, orderType: req.order_type, amount: plan.amount, price: plan.price, positionAction: req.position_action ?? null, leverage: req.leverage ?? null, tradingPair: req.trading_pair }, { base: venue.market.base, quote: venue.market.quote, marketType: venue.marketType }, plan.book, ledger, marks);
    return null;
  } catch (err) {
    if (err instanceof AppError && err.code !== 'INTERNAL') return err;
    throw err;
  }
}

function orderRow(plan: OrderPlan, now: Date, outcome: Partial<OrderRow> & Pick<OrderRow, 'status' | 'errorMessage' | 'leverage'>): OrderRow {
  return {
    ...orderFields(plan.req, plan.amount, plan.price, plan.requestHash),
    filledAmount: '0',
    averageFillPrice: null,
    feePaid: '0',
    feeAsset: null,
    reservedAsset: null,
    reservedAmount: '0',
    exchangeOrderId: null,
    createdAt: now,
    updatedAt: now,
    ...outcome,
  };
}
