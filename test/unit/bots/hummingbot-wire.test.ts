import { describe, expect, it } from 'vitest';
import { REPORTS } from '../../../src/core/bots/protocol/reports.js';
import { HUMMINGBOT_SESSION, SESSION_FILLS } from '../../fixtures/hummingbot-wire.js';

/** Every report a real Hummingbot bot put on the wire is read by our schemas, quirks and all. */
describe("a real Hummingbot bot's reports", () => {
  it.each(HUMMINGBOT_SESSION.map((m, i) => [i, m.topic, m] as const))('message %i (%s) parses', (_i, topic, m) => {
    const parsed = REPORTS[topic].safeParse(m.payload);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('holds the fills the fixture says it holds, with float amounts and enum strings as the bot sends them', () => {
    const fills = HUMMINGBOT_SESSION.filter((m) => m.topic === 'events' && m.payload.type === 'OrderFilled').map((m) => m.payload.data as Record<string, unknown>);
    expect(fills.map((f) => [f.exchange_trade_id, f.order_id, f.trade_type])).toEqual(SESSION_FILLS.map((f) => [f.fillId, f.clientOrderId, `TradeType.${f.side.toUpperCase()}`]));
    expect(typeof fills[0]!.price).toBe('number');
  });
});
