import type { Db } from '../db/client.js';
import type { OrderRow } from '../db/schema/index.js';
import type { Decimal } from '../decimal.js';
import type { Market, MarketType } from '../exchange/types.js';

/** A risk-increasing resting order about to fill, with the state it would fill into. */
export interface FillRequest {
  order: OrderRow;
  market: Market;
  marketType: MarketType;
  /** Base amount that would fill now. */
  amount: Decimal;
  price: Decimal;
  /**
   * Signed base amount held now: the perpetual position, or the spot base balance. Null when it is not
   * known (a live perpetual position, which this server does not track); position caps then cannot apply.
   */
  position: Decimal | null;
  /** The leverage the fill would trade at (perpetuals). */
  leverage: number | null;
  /** USDT per unit of the quote asset, read before the fill's transaction; null when it cannot be priced. */
  usdtPerQuote: Decimal | null;
}

export interface FillVerdict {
  /** What may fill now: the whole `amount` when nothing stands in the way, less (or 0) when a cap does. */
  amount: Decimal;
  /** Set when the rest of the order must be canceled: which guard, and why (for the order's error_message). */
  cancel?: { guard: string; reason: string };
}

/**
 * The account's limits as they are when a resting order fills, not when it was placed: the position,
 * the policy and the kill switches may all have changed since. The trading domain asks; the safety
 * domain answers (wired in the composition root, so trading does not depend on safety's classes).
 */
export interface FillGuard {
  /** USDT per unit of `quote` on this connector; may reach the network, so it is asked outside any transaction. */
  usdtPer(connector: string, quote: string): Promise<Decimal | null>;
  /** Asked inside the fill's transaction (`tx`), with the position or balance row locked by the caller. */
  check(tx: Db, req: FillRequest): Promise<FillVerdict>;
}
