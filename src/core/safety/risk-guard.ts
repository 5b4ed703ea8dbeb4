import { and, eq } from 'drizzle-orm';
import { AppError } from '../command/errors.js';
import type { AnyCommand, CommandContext, Guard, TradeIntent } from '../command/types.js';
import { orders } from '../db/schema/index.js';
import type { Safety } from './safety.js';
import { needsConfirmation, type Check } from './checks.js';
import { orderBinding } from './confirmations.js';

/**
 * The guard step for every command that declares a trade intent. It runs at the point of execution,
 * under a per-account lock held until the handler returns, so twenty concurrent orders are checked one
 * after another against a journal that already holds the ones before them.
 */
export class RiskGuard implements Guard {
  constructor(private readonly safety: Safety) {}

  async run<T>(cmd: AnyCommand, input: unknown, ctx: CommandContext, next: () => Promise<T>): Promise<T> {
    if (!cmd.trade) return next();
    const t = cmd.trade(input as never);
    ctx.journal = { accountName: t.account };

    // A person is asked before the lock is taken: the answer can take minutes, and other accounts'
    // and this account's risk-reducing calls must not wait for it. A retry of an existing order is not asked about.
    let approved = false;
    if (ctx.askHuman && !(t.clientOrderId && (await this.#exists(t.account, t.clientOrderId)))) {
      const early = await this.safety.assess(t, ctx.principal);
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
      const a = await this.safety.assess(t, ctx.principal);
      ctx.journal = {
        accountName: t.account,
        notional: a.value?.notional_usdt?.toFixed(18) ?? null,
        countsToBudget: t.kind === 'order' && !t.reducing,
        fingerprint: a.fingerprint,
      };
      this.#refuse(a.checks);
      if (a.policy.confirmation === 'human' && needsConfirmation(t, a.policy, a.value, ctx.principal.role)) {
        const approvalId = await this.safety.approvals.redeemOrPark(t, ctx.principal, ctx.surface.channel, a.value?.notional_usdt ?? null, a.policy.confirm_above_notional!);
        ctx.journal.detail = { confirmation: 'human', approval_id: approvalId };
        return next();
      }
      if (!approved && needsConfirmation(t, a.policy, a.value, ctx.principal.role)) {
        if (ctx.askHuman) {
          // The amount moved above the threshold after the person was asked: ask again rather than guess.
          throw new AppError('CONFIRMATION_REQUIRED', 'The order\'s value changed while it was being confirmed; it needs a new confirmation.', { hint: 'Place it again to be asked again.' });
        }
        if (!t.confirmationToken) {
          throw new AppError('CONFIRMATION_REQUIRED', `This order is worth ${a.value?.notional_usdt?.toFixed(2) ?? 'an unknown amount of'} USDT, above the ${a.policy.confirm_above_notional!.toFixed()} USDT threshold of ${t.account}: it needs a confirmation.`, {
            hint: 'Call trading_preview_order with the same fields, show the preview to the user, and if they agree pass its confirmation_token to trading_place_order within 60 s.',
            details: { threshold: a.policy.confirm_above_notional!.toFixed(), notional: a.value?.notional_usdt?.toFixed(2) ?? null },
          });
        }
        this.safety.tokens.redeem(t.confirmationToken, orderBinding(ctx.principal.name, a.intent));
        ctx.journal.detail = { confirmation: 'token' };
      } else if (approved) ctx.journal.detail = { confirmation: 'elicitation' };
      else if (token) {
        // Not needed here, but a token that was passed must still be this order's: a wrong one is a
        // sign the caller confused two orders, and is never passed over in silence.
        this.safety.tokens.redeem(token, orderBinding(ctx.principal.name, a.intent));
        ctx.journal.detail = { confirmation: 'token' };
      }
      return next();
    });
  }

  #refuse(checks: Check[]): void {
    const failed = checks.find((c) => !c.ok);
    if (!failed) return;
    throw new AppError(failed.code, `Refused by the ${failed.name} guard: ${failed.message}.`, {
      hint: HINTS[failed.name] ?? 'An admin sets this account\'s limits; safety_get_status shows them.',
      details: { check: failed.name, ...(failed.limit !== undefined ? { limit: failed.limit } : {}), ...(failed.value !== undefined ? { value: failed.value } : {}) },
    });
  }

  async #exists(account: string, clientOrderId: string): Promise<boolean> {
    const rows = await this.safety.db.select({ id: orders.id }).from(orders).where(and(eq(orders.accountName, account), eq(orders.clientOrderId, clientOrderId))).limit(1);
    return rows.length > 0;
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
