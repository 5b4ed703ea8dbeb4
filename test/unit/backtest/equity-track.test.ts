import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EquityTrack } from '../../../src/core/backtest/equity-track.js';
import { SimVenue } from '../../../src/core/backtest/sim-venue.js';
import { Decimal } from '../../../src/core/decimal.js';
import { btcUsdt } from './helpers.js';

/**
 * The engine keeps PnL and position as the states between fills and marks each candle's close from
 * them; the venue values itself per candle (pnlNum, positionNum). On random fills and closes, spot
 * and perpetual, both give the very same numbers.
 */
describe('EquityTrack', () => {
  const candle = fc.record({
    close: fc.integer({ min: 5_000, max: 15_000 }).map((c) => c / 100),
    orders: fc.array(fc.record({ buy: fc.boolean(), amount: fc.integer({ min: 1, max: 300 }).map((a) => a / 100), close: fc.boolean() }), { maxLength: 3 }),
  });

  for (const perpetual of [false, true]) {
    it(`marks every close as the venue values itself (${perpetual ? 'perpetual' : 'spot'})`, () => {
      fc.assert(
        fc.property(fc.array(candle, { minLength: 1, maxLength: 60 }), (candles) => {
          const v = new SimVenue({
            connector: perpetual ? 'sim_perpetual' : 'sim',
            market: perpetual ? { ...btcUsdt, market_type: 'perpetual' } : btcUsdt,
            makerFee: new Decimal('0.0008'),
            takerFee: new Decimal('0.001'),
            slippageBps: 3,
            balances: { base: new Decimal(perpetual ? '0' : '5'), quote: new Decimal('100000') },
            onUpdate: () => {},
          });
          const track = new EquityTrack(perpetual);
          v.markInto(track, 0);
          let marked = v.fillCount;
          const want = { pnl: [] as number[], position: [] as number[] };
          let id = 0;
          candles.forEach((c, j) => {
            v.setPoint(j * 60_000, c.close);
            for (const o of c.orders) {
              v.submit({
                clientOrderId: `o${++id}`,
                connector: perpetual ? 'sim_perpetual' : 'sim',
                tradingPair: 'BTC-USDT',
                side: o.buy ? 'buy' : 'sell',
                type: 'market',
                amount: new Decimal(o.amount),
                ...(perpetual ? { positionAction: o.close ? 'close' : 'open', leverage: 5 } : {}),
              } as never);
            }
            if (v.fillCount !== marked) {
              v.markInto(track, j);
              marked = v.fillCount;
            }
            want.pnl.push(v.pnlNum(c.close));
            want.position.push(v.positionNum());
          });
          const close = Float64Array.from([0, ...candles.map((c) => c.close)]);
          const pnl = new Float64Array(candles.length);
          const position = new Float64Array(candles.length);
          track.fill(close, 1, candles.length, pnl, position);
          expect([...pnl]).toEqual(want.pnl);
          expect([...position]).toEqual(want.position);
        }),
        { seed: 20261205, numRuns: 300 },
      );
    });
  }
});
