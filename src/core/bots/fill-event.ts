import type { NewBotFill } from './bot-records.js';

/**
 * A bot's fill as it arrives in an `events` message: our bot's `order_filled` and Hummingbot's
 * `OrderFilled` (its OrderFilledEvent as a dict: `order_id`, `trade_type` BUY/SELL, `trade_fee` with
 * `flat_fees`, `exchange_trade_id`) are read into one row shape. Null when the event is not a fill; an
 * Error naming what is missing when it is one that cannot be read.
 */

const FILL_TYPES = new Set(['orderfilled', 'orderfilledevent', 'fill', 'filled']);

export function isFillEvent(type: string): boolean {
  return FILL_TYPES.has(type.toLowerCase().replace(/[^a-z]/g, ''));
}

/** Epoch milliseconds of a report's timestamp, whatever its unit (seconds, ms or µs, as bots send them). */
export function epochMs(ts: number): number {
  if (ts > 1e14) return ts / 1000;
  if (ts > 1e11) return ts;
  return ts * 1000;
}

export function fillOf(eventId: string, eventTs: number, data: Record<string, unknown>): NewBotFill {
  const str = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const v = data[k];
      if ((typeof v === 'string' && v !== '') || typeof v === 'number') return String(v);
    }
    return undefined;
  };
  const side = (str('side', 'trade_type') ?? '').toLowerCase().replace(/^tradetype\./, '');
  const fees = feeOf(data);
  const fill = {
    fillId: str('fill_id', 'trade_id', 'exchange_trade_id') ?? eventId,
    clientOrderId: str('client_order_id', 'order_id'),
    tradingPair: str('trading_pair', 'symbol'),
    price: str('price'),
    amount: str('amount', 'filled_amount', 'base_amount'),
  };
  const missing = Object.entries(fill).filter(([, v]) => v === undefined).map(([k]) => k);
  if (side !== 'buy' && side !== 'sell') missing.push('side');
  if (missing.length) throw new Error(`a fill event without ${missing.join(', ')}`);
  const ts = typeof data.timestamp === 'number' ? data.timestamp : eventTs;
  return { ...(fill as Record<keyof typeof fill, string>), side: side as 'buy' | 'sell', fee: fees.fee, feeAsset: fees.asset, at: new Date(epochMs(ts)) };
}

/** Our bot's `fee`/`fee_asset`, or Hummingbot's first flat fee in `trade_fee` (zero when none). */
function feeOf(data: Record<string, unknown>): { fee: string; asset: string | null } {
  if (typeof data.fee === 'string' || typeof data.fee === 'number') return { fee: String(data.fee), asset: typeof data.fee_asset === 'string' ? data.fee_asset : null };
  const tf = data.trade_fee as { flat_fees?: Array<{ token?: unknown; amount?: unknown }> } | undefined;
  const flat = Array.isArray(tf?.flat_fees) ? tf.flat_fees[0] : undefined;
  if (flat && (typeof flat.amount === 'string' || typeof flat.amount === 'number')) return { fee: String(flat.amount), asset: typeof flat.token === 'string' ? flat.token : null };
  return { fee: '0', asset: null };
}
