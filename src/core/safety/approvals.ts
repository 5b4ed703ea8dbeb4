import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Channel } from '../command/types.js';
import type { Principal } from '../principal.js';
import type { TradeIntent } from '../trade-intent.js';
import type { Db } from '../db/client.js';
import { approvals, type ApprovalRow } from '../db/schema/index.js';
import type { Decimal } from '../decimal.js';
import { orderBinding } from './confirmations.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';

/** How long a person has to decide, and then how long the approved order may be placed. */
export const APPROVAL_TTL_MS = 15 * 60_000;
export const APPROVAL_ID_RE = /^apr_[A-Za-z0-9_-]{16}$/;
export const REASON_MAX = 200;

export type ApprovalStatus = ApprovalRow['status'];

export interface ApprovalView {
  approval_id: string;
  status: ApprovalStatus;
  account_name: string;
  order: Record<string, string | number | boolean | null>;
  notional_usdt: number | null;
  requester: string;
  channel: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string | null;
  used_at: string | null;
}

/**
 * Approvals an agent cannot grant itself (policy `confirmation: human`). An order above the account's
 * confirmation threshold is parked as a pending approval bound to its exact fields and its principal;
 * a DIFFERENT principal with the admin role approves or rejects it over REST (those commands are
 * REST-only and admin-only, so no MCP caller can reach them). The requester then sends the same order
 * again and the guard lets it through once, before the approval expires.
 *
 * An approval is spent when the guard lets its order through, before the handler runs: if the venue then
 * refuses the order, a new approval is needed, which errs on the side of asking a person again.
 *
 * MCP elicitation is not accepted instead in this mode: it is answered by whoever runs the client, which
 * for an unattended agent may be the agent's own harness, and the server cannot tell who answered. The
 * point of `human` is a second, authenticated identity.
 */
export class Approvals {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * The guard's hook, run under the account lock for an order that needs a person: consumes a matching
   * approval (the one named, or else any approved one for this exact order and principal) and returns
   * its id, or parks the order and refuses with CONFIRMATION_REQUIRED naming the approval.
   */
  async redeemOrPark(t: TradeIntent, principal: Principal, channel: Channel, notional: Decimal | null, threshold: Decimal): Promise<string> {
    const fingerprint = orderBinding(principal.name, t);
    const now = this.clock.date();
    if (t.approvalId) return this.#redeemNamed(t.approvalId, fingerprint, principal, now);

    const [approved] = await this.db
      .select({ id: approvals.id })
      .from(approvals)
      .where(and(eq(approvals.requester, principal.name), eq(approvals.fingerprint, fingerprint), eq(approvals.status, 'approved'), gt(approvals.expiresAt, now)))
      .limit(1);
    if (approved && (await this.#consume(approved.id, now))) return approved.id;

    const [pending] = await this.db
      .select()
      .from(approvals)
      .where(and(eq(approvals.requester, principal.name), eq(approvals.fingerprint, fingerprint), eq(approvals.status, 'pending'), gt(approvals.expiresAt, now)))
      .orderBy(desc(approvals.createdAt))
      .limit(1);
    const row =
      pending ??
      (
        await this.db
          .insert(approvals)
          .values({
            id: `apr_${randomBytes(12).toString('base64url')}`,
            fingerprint,
            order: orderFields(t),
            requester: principal.name,
            channel,
            accountName: t.account,
            notional: notional?.toFixed(18) ?? null,
            status: 'pending',
            createdAt: now,
            expiresAt: new Date(now.getTime() + APPROVAL_TTL_MS),
          })
          .returning()
      )[0]!;
    throw waiting(row, `This order is worth ${notional?.toFixed(2) ?? 'an unknown amount of'} USDT, above the ${threshold.toFixed()} USDT threshold of ${t.account}, and this account's orders need a person's approval. It is parked as approval ${row.id}; a person must approve it, you cannot.`);
  }

  async #redeemNamed(id: string, fingerprint: string, principal: Principal, now: Date): Promise<string> {
    const [row] = await this.db.select().from(approvals).where(and(eq(approvals.id, id), eq(approvals.requester, principal.name)));
    if (!row) throw new AppError('NOT_FOUND', `There is no approval ${id} for ${principal.name}.`, { hint: 'Send the order without approval_id to request an approval; approvals_list_approvals lists yours.' });
    if (row.fingerprint !== fingerprint) {
      throw new AppError('CONFIRMATION_MISMATCH', `Approval ${id} was given for a different order than this one.`, {
        hint: 'An approval covers one exact order (account, connector, pair, side, type, amount, price, leverage). Send exactly the approved order, or send the new order without approval_id to request a new approval.',
        details: { approval_id: id },
      });
    }
    const status = effectiveStatus(row, now);
    if (status === 'approved' && (await this.#consume(id, now))) return id;
    if (status === 'pending') throw waiting(row, `Approval ${id} is still waiting for a person's decision.`);
    if (status === 'rejected') {
      throw new AppError('CONFIRMATION_DECLINED', `Approval ${id} was rejected by ${row.decidedBy}, so the order was not placed.`, {
        hint: 'Do not retry it in another form; ask the user what they want to do instead.',
        details: { approval_id: id, decided_by: row.decidedBy, reason: row.reason },
      });
    }
    if (status === 'expired') {
      throw new AppError('CONFIRMATION_EXPIRED', `Approval ${id} expired at ${row.expiresAt.toISOString()}.`, {
        hint: 'Send the order again without approval_id to request a new approval.',
        details: { approval_id: id, expired_at: row.expiresAt.toISOString() },
      });
    }
    throw new AppError('CONFIRMATION_REUSED', `Approval ${id} was already used; an approval places one order once.`, {
      hint: 'To place another order, send it without approval_id to request a new approval.',
      details: { approval_id: id },
    });
  }

  /** Marks an approved, unexpired approval used; false when another call got there first. */
  async #consume(id: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(approvals)
      .set({ status: 'used', usedAt: now })
      .where(and(eq(approvals.id, id), eq(approvals.status, 'approved'), gt(approvals.expiresAt, now)))
      .returning({ id: approvals.id });
    return rows.length === 1;
  }

  /** A person's decision. The requester can never approve its own order (it may withdraw it by rejecting). */
  async decide(id: string, decider: Principal, verdict: 'approved' | 'rejected', reason: string | null): Promise<ApprovalView> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(approvals).where(eq(approvals.id, id)).for('update');
      if (!row) throw notFound(id);
      if (verdict === 'approved' && row.requester === decider.name) {
        throw new AppError('POLICY_DENIED', `${decider.name} requested this order and cannot approve it.`, {
          hint: 'A different user with the admin role must approve it: that is the point of a human approval.',
          details: { approval_id: id },
        });
      }
      const now = this.clock.date();
      const status = effectiveStatus(row, now);
      if (status !== 'pending') {
        if (status === 'expired' && row.status !== 'expired') await tx.update(approvals).set({ status: 'expired' }).where(eq(approvals.id, id));
        throw new AppError('CONFLICT', `Approval ${id} is ${status}; only a pending approval can be decided.`, {
          hint: status === 'expired' ? 'The requester must send the order again to request a new approval.' : 'GET /trading/approvals/{approval_id} shows its state.',
          details: { approval_id: id, status },
        });
      }
      const [updated] = await tx
        .update(approvals)
        .set({
          status: verdict,
          decidedAt: now,
          decidedBy: decider.name,
          reason,
          // An approved order may be placed within a fresh window from the decision.
          ...(verdict === 'approved' ? { expiresAt: new Date(now.getTime() + APPROVAL_TTL_MS) } : {}),
        })
        .where(eq(approvals.id, id))
        .returning();
      return view(updated!, now);
    });
  }

  /** One approval; a non-admin sees only its own (another's reads as absent). */
  async get(id: string, principal: Principal): Promise<ApprovalView> {
    const [row] = await this.db.select().from(approvals).where(eq(approvals.id, id));
    if (!row || (principal.role !== 'admin' && row.requester !== principal.name)) throw notFound(id);
    return view(row, this.clock.date());
  }

  /** Newest first; a non-admin sees only its own. `status` filters on the effective status. */
  async list(principal: Principal, f: { status?: ApprovalStatus; limit: number; cursor?: string }): Promise<{ data: ApprovalView[]; pagination: { limit: number; has_more: boolean; next_cursor: string | null } }> {
    const now = this.clock.date();
    const conds: SQL[] = [];
    if (principal.role !== 'admin') conds.push(eq(approvals.requester, principal.name));
    if (f.status) conds.push(statusCondition(f.status, now));
    if (f.cursor) {
      const { at, key: id } = keysetCursor(f.cursor, APPROVAL_ID_RE);
      conds.push(or(lt(approvals.createdAt, at), and(eq(approvals.createdAt, at), lt(approvals.id, id)))!);
    }
    const rows = await this.db.select().from(approvals).where(and(...conds)).orderBy(desc(approvals.createdAt), desc(approvals.id)).limit(f.limit + 1);
    const page = rows.slice(0, f.limit);
    const more = rows.length > f.limit;
    const last = page[page.length - 1];
    return { data: page.map((r) => view(r, now)), pagination: { limit: f.limit, has_more: more, next_cursor: more && last ? encodeKeysetCursor(last.createdAt, last.id) : null } };
  }
}

/** Pending and approved rows lapse at `expires_at`, whether or not anyone has written that down yet. */
function effectiveStatus(row: ApprovalRow, now: Date): ApprovalStatus {
  if ((row.status === 'pending' || row.status === 'approved') && row.expiresAt <= now) return 'expired';
  return row.status;
}

function statusCondition(status: ApprovalStatus, now: Date): SQL {
  if (status === 'pending' || status === 'approved') return and(eq(approvals.status, status), gt(approvals.expiresAt, now))!;
  if (status === 'expired') return or(eq(approvals.status, 'expired'), and(or(eq(approvals.status, 'pending'), eq(approvals.status, 'approved')), lt(approvals.expiresAt, now)))!;
  return eq(approvals.status, status);
}

function view(r: ApprovalRow, now: Date): ApprovalView {
  return {
    approval_id: r.id,
    status: effectiveStatus(r, now),
    account_name: r.accountName,
    order: r.order,
    notional_usdt: r.notional === null ? null : Number(r.notional),
    requester: r.requester,
    channel: r.channel,
    created_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt.toISOString(),
    decided_at: r.decidedAt?.toISOString() ?? null,
    decided_by: r.decidedBy,
    reason: r.reason,
    used_at: r.usedAt?.toISOString() ?? null,
  };
}

/** The order as the person deciding sees it. */
function orderFields(t: TradeIntent): Record<string, string | number | null> {
  return {
    account_name: t.account,
    connector_name: t.connector,
    trading_pair: t.pair,
    side: t.side ?? null,
    order_type: t.orderType ?? null,
    amount: t.amount ?? null,
    price: t.price ?? null,
    position_action: t.positionAction ?? null,
    leverage: t.leverage ?? null,
  };
}

function waiting(row: ApprovalRow, message: string): AppError {
  return new AppError('CONFIRMATION_REQUIRED', message, {
    hint: `Tell the user that approval ${row.id} waits for a person: a different user with the admin role approves or rejects it over the REST API (POST /trading/approvals/${row.id}/approve or /reject) before ${row.expiresAt.toISOString()}. You cannot approve it yourself. approvals_get_approval shows its state; once it is approved, send exactly the same order again with approval_id "${row.id}". A changed order needs a new approval.`,
    details: { approval_id: row.id, status: 'pending', expires_at: row.expiresAt.toISOString(), approve_with: `POST /trading/approvals/${row.id}/approve` },
  });
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `There is no approval ${id}.`, { hint: 'GET /trading/approvals lists the approvals you can see.' });
}


