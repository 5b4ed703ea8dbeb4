import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { fillView, orderView } from '../../core/trading/order-view.js';
import { sessionOf } from '../../core/trading/paper/order-session.js';
import { ApprovalId, ConfirmationToken, DEFAULT_ACCOUNT, FillOut, OrderFields, OrderOut, orderIntent, priceRule } from './schemas.js';

export const placeOrder = defineCommand({
  name: 'trading_place_order',
  group: 'trading',
  title: 'Place order',
  description:
    'Places a market, limit or limit_maker order; returns it with its immediate fills. amount is in the base asset, rounded down to the market\'s step; an unfilled limit order rests. Reusing a client_order_id returns the first order. Guardrails are checked at execution; above the confirmation threshold it needs a confirmation_token from trading_preview_order or a person\'s approval_id.',
  // A bot's strategy places and follows its orders through these, as principal bot:<name> (src/core/bots/gateway.ts).
  channels: ['rest', 'mcp', 'bot'],
  risk: 'destructive',
  idempotent: false,
  openWorld: true,
  accountScope: { default: DEFAULT_ACCOUNT },
  input: z
    .strictObject({
      ...OrderFields,
      client_order_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64').optional().describe('Your id for this order; a retry with the same id returns the original order.'),
      // null is what a preview answers when no token is needed; echoed back, it means none.
      confirmation_token: ConfirmationToken.nullish().describe(`${ConfirmationToken.description} null means none.`),
      approval_id: ApprovalId.optional(),
    })
    .superRefine(priceRule),
  output: z.object({
    order: OrderOut,
    fills: z.array(FillOut),
    replayed: z.boolean().describe('True when client_order_id matched an earlier order: nothing new was placed.'),
    book_source: z.string().nullable().describe('The book the order filled against; "sim" when a paper connector\'s exchange was unreachable.'),
  }),
  http: { method: 'POST', path: '/trading/orders', successStatus: 201 },
  trade: (input) => ({ ...orderIntent(input), clientOrderId: input.client_order_id, confirmationToken: input.confirmation_token ?? undefined, approvalId: input.approval_id }),
  handler: async (input, ctx) => {
    const { trading } = ctx.services;
    const { confirmation_token: _token, approval_id: _approval, ...order } = input;
    // The guard's transaction, when it opened one: the order is filled from the ledger it checked and
    // stored with this call's journal row (a replay writes nothing, so execute() journals it).
    const session = sessionOf(ctx);
    const result = session
      ? await trading.placeInSession(session, session.ledger.existing ? undefined : ctx.journalRow)
      : await trading.place({ ...order, account_name: input.account_name ?? DEFAULT_ACCOUNT });
    return { order: orderView(result.order), fills: result.fills.map(fillView), replayed: result.replayed, book_source: result.book_source };
  },
});
