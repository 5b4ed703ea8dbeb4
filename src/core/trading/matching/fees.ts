import { Decimal } from '../../decimal.js';
import type { MarketType } from '../../exchange/types.js';

/** Paper fee schedule, in the quote asset: typical large-exchange base tiers. */
export const PAPER_FEES: Record<MarketType, { maker: Decimal; taker: Decimal }> = {
  spot: { maker: new Decimal('0.0008'), taker: new Decimal('0.001') },
  perpetual: { maker: new Decimal('0.0002'), taker: new Decimal('0.0005') },
};

/** Fees are rounded up to 18 places (what numeric(38,18) keeps): never under-charged. */
export function feeOn(notional: Decimal, rate: Decimal): Decimal {
  const fee = notional.times(rate);
  return fee.decimalPlaces() <= 18 ? fee : fee.toDecimalPlaces(18, Decimal.ROUND_UP);
}

export const q18 = (d: Decimal) => d.toDecimalPlaces(18, Decimal.ROUND_HALF_EVEN);
