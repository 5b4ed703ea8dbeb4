import { z } from 'zod';
import { Text } from '../../core/schema.js';
import type { KillSwitchState } from '../../core/safety/kill-switches.js';
import type { Policy } from '../../core/safety/policy-store.js';

/**
 * Why a principal did something (a kill switch, an approval): free text that other principals' agents
 * read later, fenced as untrusted over MCP. Kept to a sentence or two, so it cannot carry a long payload.
 */
export const REASON_MAX = 200;
export const Reason = Text({ min: 1, max: REASON_MAX, trim: true });

export const KillSwitchOut = z.object({
  scope: z.enum(['global', 'account']),
  account_name: z.string().nullable(),
  reason: z.string(),
  set_by: z.string(),
  set_at: z.string(),
});

export const PolicyOut = z.object({
  account_name: z.string(),
  mode: z.enum(['disabled', 'paper', 'live']).describe('paper: sim and *_paper_trade only; live: real exchanges too; disabled: no new risk.'),
  max_order_notional: z.number().nullable().describe('Per-order cap, USDT.'),
  order_cap_decided: z.boolean(),
  max_daily_notional: z.number().nullable().describe('Rolling 24 h cap, USDT.'),
  max_position_notional: z.number().nullable().describe('Cap on one position, USDT.'),
  max_leverage: z.number().int().nullable(),
  allowed_pairs: z.array(z.string()).nullable().describe('Only these pair patterns (e.g. "ETH-*"), when set.'),
  denied_pairs: z.array(z.string()),
  max_orders_per_minute: z.number().int().nullable(),
  duplicate_window_seconds: z.number().int().nullable(),
  confirm_above_notional: z.number().nullable().describe('Orders above this USDT value need confirming.'),
  confirmation: z.enum(['token', 'human']).describe('token: a preview token; human: another person approves over REST.'),
  updated_by: z.string().nullable(),
  updated_at: z.string().nullable(),
});

const n = (d: { toNumber(): number } | null) => (d ? d.toNumber() : null);

export function policyView(p: Policy): z.input<typeof PolicyOut> {
  return {
    ...p,
    max_order_notional: n(p.max_order_notional),
    max_daily_notional: n(p.max_daily_notional),
    max_position_notional: n(p.max_position_notional),
    confirm_above_notional: n(p.confirm_above_notional),
    updated_at: p.updated_at?.toISOString() ?? null,
  };
}

export function killSwitchView(k: KillSwitchState): z.input<typeof KillSwitchOut> {
  return { ...k, set_at: k.set_at.toISOString() };
}
