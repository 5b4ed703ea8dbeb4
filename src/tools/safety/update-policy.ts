import { z } from 'zod';
import { defineCommand } from '../../core/command/index.js';
import { PAIR_PATTERN } from '../../core/safety/pairs.js';
import { AccountName, NonNegativeDecimalIn, PositiveDecimalIn } from '../../core/schema.js';
import { PolicyOut, policyView } from './schemas.js';

const Cap = PositiveDecimalIn.nullable().optional();
const Pattern = z.string().regex(PAIR_PATTERN, 'a pair or pattern like BTC-USDT, ETH-*, *-USDT or *');

export const updatePolicy = defineCommand({
  name: 'safety_update_policy',
  group: 'safety',
  title: 'Update account policy',
  description:
    'Changes an account\'s guardrails. Omitted fields keep their value; null removes a limit. Amounts are USDT. Switching mode to "live" requires max_order_notional in the same request: a number, or "none" as an explicit choice of no per-order cap. Admin only, REST only: no agent can change a policy.',
  risk: 'admin',
  idempotent: true,
  openWorld: false,
  channels: ['rest'],
  input: z.strictObject({
    account_name: AccountName,
    mode: z.enum(['disabled', 'paper', 'live']).optional().describe('disabled: no new orders; paper: sim and *_paper_trade connectors only (the default); live: real exchanges too.'),
    max_order_notional: z.union([z.literal('none'), PositiveDecimalIn]).nullable().optional().describe('Per-order cap in USDT, valued at the live quote; "none" = explicitly no cap.'),
    max_daily_notional: Cap.describe('Cap on risk-increasing orders over a rolling 24 h, in USDT.'),
    max_position_notional: Cap.describe('Cap on one position\'s value after an order, in USDT.'),
    max_leverage: z.number().int().min(1).max(125).nullable().optional(),
    allowed_pairs: z.array(Pattern).max(200).nullable().optional().describe('Only these pairs/patterns; null = any pair.'),
    denied_pairs: z.array(Pattern).max(200).optional().describe('Never these pairs/patterns; applies to orders, closes and leverage changes.'),
    max_orders_per_minute: z.number().int().min(1).max(10_000).nullable().optional(),
    duplicate_window_seconds: z.number().int().min(1).max(86_400).nullable().optional().describe('Refuse an identical order repeated within this many seconds.'),
    confirm_above_notional: NonNegativeDecimalIn.nullable().optional().describe('Orders worth more than this (USDT) need a person\'s confirmation; 0 = every order; null = none. Admins are exempt.'),
    confirmation: z
      .enum(['token', 'human'])
      .optional()
      .describe('How such an order is confirmed. token (default): a preview token, or the person at the MCP client when it can be asked. human: the order is parked as a pending approval that a different user with the admin role approves or rejects over REST (POST /trading/approvals/{approval_id}/approve) within 15 minutes; the caller cannot approve its own order.'),
  }),
  output: PolicyOut,
  http: { method: 'PUT', path: '/accounts/{account_name}/policy' },
  handler: async ({ account_name, ...patch }, ctx) => policyView(await ctx.services.safety.policies.update(account_name, patch, ctx.principal.name)),
});
