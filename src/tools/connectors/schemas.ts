import { z } from 'zod';
import type { ConnectorInfo, Market, TradingRules } from '../../core/exchange/types.js';

export const ConnectorKindEnum = z.enum(['sim', 'exchange', 'paper']);
export const MarketTypeEnum = z.enum(['spot', 'perpetual']);

export const ConnectorOut = z.object({
  name: z.string(),
  kind: ConnectorKindEnum.describe('sim: built-in; exchange: live, real funds; paper: simulated fills on an exchange\'s public data.'),
  exchange: z.string(),
  market_type: MarketTypeEnum,
  offline: z.boolean().describe('Works with no network.'),
  requires_credentials: z.boolean(),
  credential_fields: z.array(z.string()),
  display_name: z.string(),
  website: z.string().nullable(),
});

const num = z.number().nullable();
export const TradingRulesOut = z.object({
  trading_pair: z.string(),
  min_order_size: num,
  max_order_size: num,
  min_price_increment: num,
  min_base_amount_increment: num,
  min_notional_size: num,
  max_leverage: num,
  supported_order_types: z.array(z.enum(['market', 'limit', 'limit_maker'])),
});

export const MarketOut = z.object({
  trading_pair: z.string(),
  base: z.string(),
  quote: z.string(),
  market_type: MarketTypeEnum,
  active: z.boolean(),
});

export function connectorOut(c: ConnectorInfo): z.input<typeof ConnectorOut> {
  return { ...c, credential_fields: [...c.credential_fields] };
}

const n = (v: string | null) => (v === null ? null : Number(v));

export function rulesOut(m: Market): z.input<typeof TradingRulesOut> {
  const r: TradingRules = m.rules;
  return {
    trading_pair: m.trading_pair,
    min_order_size: n(r.min_order_size),
    max_order_size: n(r.max_order_size),
    min_price_increment: n(r.min_price_increment),
    min_base_amount_increment: n(r.min_base_amount_increment),
    min_notional_size: n(r.min_notional_size),
    max_leverage: r.max_leverage,
    supported_order_types: r.supported_order_types,
  };
}

export function marketOut(m: Market): z.input<typeof MarketOut> {
  return { trading_pair: m.trading_pair, base: m.base, quote: m.quote, market_type: m.market_type, active: m.active };
}
