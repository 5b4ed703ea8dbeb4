import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { type AppError } from '../../core/errors.js';
import type { Check } from '../../core/safety/checks.js';
import { DEFAULT_ACCOUNT, OrderFields, OrderOut, orderIntent, priceRule } from './schemas.js';

const num = (d: { toNumber(): number } | null | undefined) => (d ? d.toNumber() : null);

export const previewOrder = defineCommand({
  name: 'trading_preview_order',
  group: 'trading',
  title: 'Preview order',
  description:
    'Checks an order without placing it: value at the live quote, fee, every guardrail and execution check (funds, margin, market rules), and whether it needs confirming. Changes nothing. If confirmation_required and nothing refuses it, returns a confirmation_token for this exact order: show the preview to the user and, only if they agree, pass it to trading_place_order with the same fields within 60 s. It works once.',
  risk: 'read',
  idempotent: true,
  openWorld: true,
  accountScope: { default: DEFAULT_ACCOUNT },
  input: z.strictObject(OrderFields).superRefine(priceRule),
  output: z.object({
    ...OrderOut.pick({ account_name: true, connector_name: true, trading_pair: true, side: true, order_type: true, amount: true, price: true }).shape,
    mode: z.enum(['disabled', 'paper', 'live']).describe("The account's trading mode."),
    live: z.boolean().describe('True when it would move real funds on a live exchange.'),
    reference_price: z.number().nullable().describe('The live quote the order is valued at (ask for a buy, bid for a sell).'),
    notional_quote: z.number().nullable().describe('Its cost at the current book in the quote asset (a limit order: the worse of its price and the quote).'),
    quote_asset: z.string().nullable(),
    notional_usdt: z.number().nullable().describe('The same value in USDT (the caps\' unit); null when it cannot be priced.'),
    estimated_fee: z.number().nullable().describe('Taker fee estimate in the quote asset.'),
    checks: z.array(
      z.object({
        name: z.string().describe('mode, kill_switch, pairs, caps, rate, duplicate_window, funds, order_rules, ...'),
        ok: z.boolean(),
        code: z.string().nullable().describe('The code placing the order would get; null when the check passes.'),
        message: z.string(),
        limit: z.union([z.string(), z.number()]).nullable().optional(),
        value: z.union([z.string(), z.number()]).nullable().optional(),
      }),
    ),
    would_be_refused: z.boolean().describe('True when a check above fails: placing this order now would be refused.'),
    confirmation_required: z.boolean(),
    confirmation_token: z.string().nullable().describe('Pass to trading_place_order with the same fields; null when not needed, refused, or a person must approve it (placing it parks it).'),
    token_expires_at: z.string().nullable(),
    remaining_24h_notional: z.number().nullable().describe('USDT left in the 24 h budget before this order; null when there is no 24 h cap.'),
  }),
  http: { method: 'POST', path: '/trading/orders/preview' },
  handler: async (input, ctx) => {
    const { safety, trading } = ctx.services;
    const t = orderIntent(input);
    // The journal row names the account the preview is for, the default one included.
    ctx.journal = { ...ctx.journal, accountName: t.account };
    // One plan (market, rules, one book snapshot) for the guards' valuation and the engine's check. When
    // it cannot be made, both make their own and report why in their own words.
    const req = { ...input, account_name: t.account };
    const plan = await trading.plan(req).catch(() => undefined);
    const a = await safety.assess(t, ctx.principal, plan ? { market: plan.venue.market, book: async () => plan.book } : undefined);
    // What the order meets after the guards: the engine's own checks (or a live exchange's balances).
    const refusal = await trading.check(req, plan);
    const checks = [...a.checks, ...executionChecks(refusal)].map((c) => ({ ...c, code: c.ok ? null : c.code }));
    const refused = checks.some((c) => !c.ok);
    // A token would not help where a different person must approve (policy confirmation "human").
    const token = a.confirmation_required && !refused && a.policy.confirmation !== 'human' ? safety.issueToken(a.intent, ctx.principal) : null;
    return {
      account_name: t.account,
      connector_name: t.connector,
      trading_pair: t.pair,
      side: input.side,
      order_type: input.order_type,
      amount: Number(input.amount),
      price: input.price ? Number(input.price) : null,
      mode: a.policy.mode,
      live: (await ctx.services.connectors.info(t.connector)).kind === 'exchange',
      reference_price: num(a.value?.reference_price),
      notional_quote: num(a.value?.notional_quote),
      quote_asset: a.value?.market.quote ?? null,
      notional_usdt: num(a.value?.notional_usdt),
      estimated_fee: num(a.value?.estimated_fee),
      checks,
      would_be_refused: refused,
      confirmation_required: a.confirmation_required,
      confirmation_token: token?.token ?? null,
      token_expires_at: token?.expires_at.toISOString() ?? null,
      remaining_24h_notional: a.policy.max_daily_notional ? Math.max(0, a.policy.max_daily_notional.minus(a.spent24h).toNumber()) : null,
    };
  },
});

/** The engine's answer as checks: one failed check named for what refused the order, or the ones that passed. */
function executionChecks(refusal: AppError | null): Check[] {
  if (!refusal) {
    return [
      { name: 'order_rules', ok: true, code: 'VALIDATION_FAILED', message: "the amount and price fit the market's step, tick, size and notional rules, and a close fits the position" },
      { name: 'funds', ok: true, code: 'UPSTREAM_REJECTED', message: 'the account can pay for the order now' },
    ];
  }
  const reason = (refusal.details as { reason?: string } | undefined)?.reason;
  const byCode: Partial<Record<AppError['code'], string>> = { VALIDATION_FAILED: 'order_rules', UPSTREAM_REJECTED: 'exchange_rules', PRECONDITION_FAILED: 'connector' };
  const name = reason === 'insufficient_funds' ? 'funds' : (byCode[refusal.code] ?? 'execution');
  return [{ name, ok: false, code: refusal.code, message: refusal.message }];
}
