import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { simMarkets } from '../../src/core/exchange/sim/markets.js';
import type { ConnectorInfo } from '../../src/core/exchange/types.js';
import { evaluate } from '../../src/core/safety/checks.js';
import type { OrderValue } from '../../src/core/safety/order-value.js';
import { defaultPolicy, type Policy } from '../../src/core/safety/policy-store.js';

const market = simMarkets('perpetual').find((m) => m.trading_pair === 'BTC-USDT')!;
const info = { name: 'sim_perpetual', kind: 'sim', market_type: 'perpetual' } as unknown as ConnectorInfo;
const policy: Policy = { ...defaultPolicy('desk'), max_position_notional: new Decimal(1000) };
const value = (amount: string): OrderValue => ({ info, market, reference_price: new Decimal(50_000), notional_quote: new Decimal(amount).times(50_000), notional_usdt: new Decimal(amount).times(50_000), estimated_fee: new Decimal(0) }) as OrderValue;
const capCheck = (side: 'buy' | 'sell', amount: string, held: string) =>
  evaluate(
    { kind: 'order', account: 'desk', connector: 'sim_perpetual', pair: 'BTC-USDT', reducing: false, side, orderType: 'market', amount },
    { info, policy, killSwitches: [], value: value(amount), spent24h: new Decimal(0), ordersLastMinute: 0, lastIdentical: null, positionBefore: new Decimal(held), restingSameSide: new Decimal(0), now: 0 },
  ).find((c) => c.name === 'max_position_notional')!;

describe('the position cap check', () => {
  it('refuses what grows a side past the cap, saying how far', () => {
    expect(capCheck('buy', '0.03', '0')).toMatchObject({ ok: false, message: expect.stringMatching(/^the BTC-USDT long side could reach 1500 USDT .* against a cap of 1000 USDT$/) });
  });

  it('passes what shrinks a side already above the cap, and says so rather than quoting a size over the cap', () => {
    const c = capCheck('sell', '0.01', '0.05');
    expect(c.ok).toBe(true);
    expect(c.message).toBe('the order does not grow the BTC-USDT short side, so the cap of 1000 USDT does not hold it back (a position may always shrink, even above the cap)');
  });
});
