import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { AnyCommand, CommandContext, Guard } from '../command/types.js';
import type { TradeIntent } from '../trade-intent.js';
import { CommitThenThrow } from '../db/sql-runner.js';
import { Decimal } from '../decimal.js';
import type { OrderPlan } from '../trading/order-plan.js';
import { attachSession, detachSession } from '../trading/paper/order-session.js';
import type { TradingService } from '../trading/trading-service.js';
import type { Safety } from './safety.js';
import { evaluate, fingerprintOf, needsConfirmation, type Check } from './checks.js';
import { orderBinding } from './confirmations.js';
import { executableIntent, valueOrder, type OrderValue } from './order-value.js';
import { readGuardState } from './order-state.js';
import type { Policy } from './policy-store.js';

/** Thrown inside the fast path's transaction to roll it back and take the general path instead. */
const GENERAL_PATH = Symbol('general path');

/**
 * The guard step for every command that declares a trade intent. It runs at the point of execution,
 * under a per-account lock held until the handler returns, so twenty concurrent orders are checked one
 * after another against a journal that already holds the ones before them.
 */
export class RiskGuard implements Guard {
  constructor(
    private readonly safety: Safety,
    private readonly trading: TradingService,
    private readonly clock: Clock,
  ) {}

  async run<T>(cmd: AnyCommand, input: unknown, ctx: CommandContext, next: () => Promise<T>): Promise<T> {
    if (!cmd.trade) return next();
    const t = cmd.trade(input as never);
    ctx.journal = { accountName: t.account };

    // A paper order that asks no person is checked and executed in one transaction (see #inTransaction).
    if (t.kind === 'order' && !ctx.askHuman && t.side && t.orderType && t.amount) {
      const plan = await this.trading.plan(placeOrderOf(t));
      if (plan) {
        try {
          return await this.#inTransaction(t, plan, ctx, next);
        } catch (err) {
          if (err !== GENERAL_PATH) throw err;
          detachSession(ctx);
          ctx.journal = { accountName: t.account };
        }
      }
    }

    // A person is asked before the lock is taken: the answer can take minutes, and other accounts'
    // and this account's risk-reducing calls must not wait for it. A retry of an existing order is not asked about.
    let approved = false;
    if (ctx.askHuman && !(t.clientOrderId && (await this.#exists(t.account, t.clientOrderId)))) {
      const early = await this.safety.assess(t, ctx.principal, undefined, ctx.automated);
      this.#refuse(early.checks);
      // In `human` mode the person at the client does not count: another principal approves over REST (approvals.ts).
      if (early.policy.confirmation !== 'human' && needsConfirmation(t, early.policy, early.value, ctx.principal.role)) {
        const worth = early.value?.notional_usdt?.toFixed(2);
        approved = await ctx.askHuman({ message: confirmationMessage(t, worth ?? 'unknown'), summary: summaryOf(t, worth) });
        if (!approved) {
          ctx.journal.detail = { confirmation: 'declined' };
          throw new AppError('CONFIRMATION_DECLINED', 'The user did not approve this order, so it was not placed.', {
            hint: 'Do not retry it in another form; ask the user what they want to do instead.',
          });
        }
      }
    }

    return this.safety.locks.run(t.account, async () => {
      // A retry of an order that already exists places nothing: the handler replays it (or refuses a
      // changed one). Checked under the lock, where no other call of this account can remove the row
      // (an order refused as invalid is deleted) between this check and the handler.
      if (t.clientOrderId && (await this.#exists(t.account, t.clientOrderId))) return next();
      // A token that is passed is checked first, so its misuse (reused, expired, another order's) is
      // answered as such rather than hidden behind whichever limit the order also meets. It is consumed
      // only below, when the order passes every check and goes to the handler: a refused order does not
      // burn it. The account lock spans the check and the consumption, and the token binds the account,
      // so two calls with one token are serialised here and only the first gets through.
      const token = ctx.askHuman ? undefined : t.confirmationToken;
      if (token) this.safety.tokens.verify(token, orderBinding(ctx.principal.name, await this.safety.executable(t)));
      const a = await this.safety.assess(t, ctx.principal, undefined, ctx.automated);
      ctx.journal = {
        accountName: t.account,
        notional: a.value?.notional_usdt?.toFixed(18) ?? null,
        countsToBudget: t.kind === 'order' && !t.reducing,
        fingerprint: a.fingerprint,
      };
      this.#refuse(a.checks);
      if (a.policy.confirmation === 'human' && needsConfirmation(t, a.policy, a.value, ctx.principal.role)) {
        // An executor's order cannot wait for a person: parking it would leave an approval nothing redeems.
        if (ctx.automated) {
          throw new AppError('CONFIRMATION_REQUIRED', `This order is worth ${a.value?.notional_usdt?.toFixed(2) ?? 'an unknown amount of'} USDT, above the ${a.policy.confirm_above_notional!.toFixed()} USDT threshold of ${t.account}, whose orders need a person's approval; an executor's orders cannot wait for one.`, {
            hint: 'Size the executor below the threshold, or have an admin raise confirm_above_notional for the account.',
          });
        }
        const approvalId = await this.safety.approvals.redeemOrPark(t, ctx.principal, ctx.surface.channel, a.value?.notional_usdt ?? null, a.policy.confirm_above_notional!);
        ctx.journal.detail = { confirmation: 'human', approval_id: approvalId };
        return next();
      }
      this.#confirm(t, a.intent, a.policy, a.value, ctx, approved);
      return next();
    });
  }

  /**
   * The fast path: one transaction whose first statement takes the account's row lock; then the ledger
   * (trading's) and the guard state (policy, kill switches, journal counts) are read once each, the
   * checks run on what was read, and the handler fills the order from the same ledger and writes it
   * with its journal row. What needs no lock (the market, the book, the order's value) was computed
   * before. A person's approval (policy `confirmation: human`) takes the general path.
   */
  async #inTransaction<T>(sent: TradeIntent, plan: OrderPlan, ctx: CommandContext, next: () => Promise<T>): Promise<T> {
    const t0 = executableIntent(plan.venue.market, sent);
    let value: OrderValue | null = null;
    let valueError: string | undefined;
    if (!t0.reducing) {
      try {
        value = await valueOrder(this.safety.connectors, this.safety.valuation, t0, { market: plan.venue.market, book: async () => plan.book });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'NOT_FOUND') throw err;
        valueError = err.message;
      }
    }
    let afterCommit: unknown = GENERAL_PATH;
    const journal = ctx.journal!;
    try {
      const result = await this.safety.locks.transaction(t0.account, async (q) => {
        const ledger = await this.trading.readLedger(q, plan);
        attachSession(ctx, { q, plan, ledger });
        journal.inTransaction = true;
        // A retry of an order that already exists places nothing: the handler replays it (or refuses a changed one).
        if (ledger.existing) return next();
        const perp = plan.venue.marketType === 'perpetual';
        const t: TradeIntent = perp && !t0.reducing ? { ...t0, leverage: ledger.positions.get(t0.pair)?.amount.isZero() === false ? ledger.positions.get(t0.pair)!.leverage : (t0.leverage ?? ledger.leverageSetting) } : t0;
        const counting = !t.reducing;
        const fingerprint = fingerprintOf(t);
        const now = this.clock.now();
        const token = t.confirmationToken;
        if (token) this.safety.tokens.verify(token, orderBinding(ctx.principal.name, t0));
        const g = await readGuardState(q, t.account, counting, fingerprint, now);
        const held = perp ? (ledger.positions.get(t.pair)?.amount ?? new Decimal(0)) : (ledger.balances.get(plan.venue.market.base)?.total ?? new Decimal(0));
        const checks = evaluate(t, {
          info: plan.venue.info,
          policy: g.policy,
          killSwitches: g.killSwitches,
          value,
          valueError,
          spent24h: g.spent24h,
          ordersLastMinute: g.ordersLastMinute,
          lastIdentical: ctx.automated ? null : g.lastIdentical,
          positionBefore: counting && g.policy.max_position_notional !== null && value ? held : null,
          restingSameSide: ledger.restingSameSide,
          now,
        });
        Object.assign(journal, { notional: value?.notional_usdt?.toFixed(18) ?? null, countsToBudget: counting, fingerprint });
        this.#refuse(checks);
        if (g.policy.confirmation === 'human' && needsConfirmation(t, g.policy, value, ctx.principal.role)) throw GENERAL_PATH;
        this.#confirm(t, t0, g.policy, value, ctx, false);
        try {
          return await next();
        } catch (err) {
          if (err instanceof CommitThenThrow) afterCommit = err.error;
          throw err;
        }
      });
      if (journal.written) journal.stored = true;
      return result;
    } catch (err) {
      // The engine's refusal was stored with its journal row and committed: the call has its one row.
      if (err === afterCommit && journal.written) journal.stored = true;
      throw err;
    }
  }

  /**
   * The confirmation an order above the account's threshold needs (policy `confirmation: token`): the
   * person at the client approved it (`approved`), or a preview's token for exactly this order is
   * redeemed. A token passed where none is needed must still be this order's.
   */
  #confirm(t: TradeIntent, executable: TradeIntent, policy: Policy, value: OrderValue | null, ctx: CommandContext, approved: boolean): void {
    const journal = ctx.journal!;
    const token = ctx.askHuman ? undefined : t.confirmationToken;
    if (!approved && needsConfirmation(t, policy, value, ctx.principal.role)) {
      if (ctx.askHuman) {
        // The amount moved above the threshold after the person was asked: ask again rather than guess.
        throw new AppError('CONFIRMATION_REQUIRED', 'The order\'s value changed while it was being confirmed; it needs a new confirmation.', { hint: 'Place it again to be asked again.' });
      }
      if (!t.confirmationToken) {
        throw new AppError('CONFIRMATION_REQUIRED', `This order is worth ${value?.notional_usdt?.toFixed(2) ?? 'an unknown amount of'} USDT, above the ${policy.confirm_above_notional!.toFixed()} USDT threshold of ${t.account}: it needs a confirmation.`, {
          hint: 'Call trading_preview_order with the same fields, show the preview to the user, and if they agree pass its confirmation_token to trading_place_order within 60 s.',
          details: { threshold: policy.confirm_above_notional!.toFixed(), notional: value?.notional_usdt?.toFixed(2) ?? null },
        });
      }
      this.safety.tokens.redeem(t.confirmationToken, orderBinding(ctx.principal.name, executable));
      journal.detail = { confirmation: 'token' };
    } else if (approved) journal.detail = { confirmation: 'elicitation' };
    else if (token) {
      // Not needed here, but a token that was passed must still be this order's: a wrong one is a
      // sign the caller confused two orders, and is never passed over in silence.
      this.safety.tokens.redeem(token, orderBinding(ctx.principal.name, executable));
      journal.detail = { confirmation: 'token' };
    }
  }

  #refuse(checks: Check[]): void {
    const failed = checks.find((c) => !c.ok);
    if (!failed) return;
    throw new AppError(failed.code, `Refused by the ${failed.name} guard: ${failed.message}.`, {
      hint: HINTS[failed.name] ?? 'An admin sets this account\'s limits; safety_get_status shows them.',
      details: { check: failed.name, ...(failed.limit !== undefined ? { limit: failed.limit } : {}), ...(failed.value !== undefined ? { value: failed.value } : {}) },
    });
  }

  #exists(account: string, clientOrderId: string): Promise<boolean> {
    return this.trading.exists(account, clientOrderId);
  }
}

const HINTS: Record<string, string> = {
  mode: 'An admin enables trading with PUT /accounts/{account_name}/policy; cancels and closes still work.',
  live_mode: 'Use a paper connector (sim or <exchange>_paper_trade), or ask an admin to switch the account to live mode with a per-order cap.',
  kill_switch: 'Risk-increasing actions are blocked until an admin clears the kill switch over REST; cancels and closes still work.',
  pairs: 'This pair is outside what this account may trade; safety_get_status lists the allowed and denied pairs.',
  max_leverage: 'Use a lower leverage.',
  valuation: 'Retry when a price for the quote asset is available.',
  max_order_notional: 'Reduce the amount so the order is worth less than the cap.',
  max_daily_notional: 'The 24 h budget frees up as older orders leave the window; safety_get_status shows what remains.',
  max_position_notional: 'Reduce the amount, or reduce the position first. An order that may rest is counted as if the position were closed before it fills; to rest an order that only reduces a perpetual position, pass position_action "close".',
  max_orders_per_minute: 'Wait a minute before placing more orders.',
  duplicate_window: 'If you really mean to repeat it, wait for the window to pass; to retry the same order safely, reuse its client_order_id.',
};

/** The order a trade intent describes, as the order path takes it. */
function placeOrderOf(t: TradeIntent) {
  return {
    account_name: t.account,
    connector_name: t.connector,
    trading_pair: t.pair,
    side: t.side!,
    order_type: t.orderType!,
    amount: t.amount!,
    ...(t.price !== undefined ? { price: t.price } : {}),
    ...(t.clientOrderId !== undefined ? { client_order_id: t.clientOrderId } : {}),
    ...(t.positionAction !== undefined ? { position_action: t.positionAction } : {}),
    ...(t.leverage !== undefined ? { leverage: t.leverage } : {}),
  };
}

function summaryOf(t: TradeIntent, notional: string | undefined): Record<string, string> {
  const s: Record<string, string> = { account: t.account, connector: t.connector, pair: t.pair, side: t.side ?? '', type: t.orderType ?? '', amount: t.amount ?? '' };
  if (t.price) s.price = t.price;
  if (t.leverage) s.leverage = `${t.leverage}x`;
  if (notional) s.value_usdt = notional;
  return s;
}

function confirmationMessage(t: TradeIntent, notional: string): string {
  return `An agent wants to ${t.side} ${t.amount} ${t.pair} (${t.orderType}${t.price ? ` at ${t.price}` : ''}) on ${t.connector} for account ${t.account}, worth about ${notional} USDT. Approve this order?`;
}
