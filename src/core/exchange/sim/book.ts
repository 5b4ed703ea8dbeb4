import { streamKey, uniform } from './random.js';

export interface BookLevel {
  price: number;
  amount: number;
}

export interface OrderBookSnapshot {
  bids: BookLevel[];
  asks: BookLevel[];
  timestamp: number;
}

export interface SimTrade {
  id: string;
  timestamp: number;
  side: 'buy' | 'sell';
  price: number;
  amount: number;
}

export interface BookShape {
  tick: number;
  step: number;
  /** Typical quote value resting at each level near the touch. */
  levelNotional: number;
}

const roundTo = (v: number, inc: number) => Math.round(v / inc) * inc;
const floorTo = (v: number, inc: number) => Math.floor(v / inc + 1e-9) * inc;
const ceilTo = (v: number, inc: number) => Math.ceil(v / inc - 1e-9) * inc;
const clean = (v: number, inc: number) => Number(v.toFixed(Math.max(0, Math.ceil(-Math.log10(inc)))));

/**
 * A synthetic order book around a mid price, deterministic per second: spread of a couple of ticks
 * (wider in turbulent regimes), sizes growing with depth, levels spaced a few basis points apart.
 */
export function syntheticBook(market: string, mid: number, second: number, regime: number, shape: BookShape, depth = 50): OrderBookSnapshot {
  const key = streamKey(`book/${market}`);
  const halfSpread = Math.max(shape.tick, mid * 0.00005 * (1 + regime) * (0.5 + uniform(key, second, 1)));
  const gap = Math.max(shape.tick, mid * 0.0001);
  const bids: BookLevel[] = [];
  const asks: BookLevel[] = [];
  const bestBid = floorTo(mid - halfSpread, shape.tick);
  const bestAsk = Math.max(ceilTo(mid + halfSpread, shape.tick), bestBid + shape.tick);
  for (let i = 0; i < depth; i++) {
    const grow = 1 + i * 0.2;
    const bidPx = floorTo(bestBid - i * gap, shape.tick);
    const askPx = ceilTo(bestAsk + i * gap, shape.tick);
    if (bidPx <= 0) break;
    const bidAmt = Math.max(shape.step, roundTo(((shape.levelNotional * grow) / bidPx) * (0.3 + 1.4 * uniform(key, second, 2, i)), shape.step));
    const askAmt = Math.max(shape.step, roundTo(((shape.levelNotional * grow) / askPx) * (0.3 + 1.4 * uniform(key, second, 3, i)), shape.step));
    bids.push({ price: clean(bidPx, shape.tick), amount: clean(bidAmt, shape.step) });
    asks.push({ price: clean(askPx, shape.tick), amount: clean(askAmt, shape.step) });
  }
  return { bids, asks, timestamp: second * 1000 };
}

/** The public trades printed during one second: none to a few, at the touch, sizes skewed small. */
export function syntheticTrades(market: string, second: number, book: OrderBookSnapshot, shape: BookShape): SimTrade[] {
  const key = streamKey(`trades/${market}`);
  const count = Math.floor(uniform(key, second, 0) * 4);
  const out: SimTrade[] = [];
  for (let j = 0; j < count; j++) {
    const side = uniform(key, second, 1, j) < 0.5 ? 'buy' : 'sell';
    const level = side === 'buy' ? book.asks[0] : book.bids[0];
    if (!level) continue;
    const size = Math.max(shape.step, roundTo((-Math.log(uniform(key, second, 2, j)) * shape.levelNotional * 0.05) / level.price, shape.step));
    out.push({
      id: `${second}-${j}`,
      timestamp: second * 1000 + Math.floor(uniform(key, second, 3, j) * 1000),
      side,
      price: level.price,
      amount: clean(Math.min(size, level.amount), shape.step),
    });
  }
  return out.sort((a, b) => a.timestamp - b.timestamp);
}
