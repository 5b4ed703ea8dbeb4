import { describe, expect, it } from 'vitest';
import type { ExecutorRuntime } from '../../../src/core/db/schema/index.js';
import { Decimal } from '../../../src/core/decimal.js';
import { AppError } from '../../../src/core/errors.js';
import type { OrderActions } from '../../../src/core/executors/order-actions.js';
import { OrderPath, type OrderSender } from '../../../src/core/executors/order-path.js';
import type { OrderUpdate } from '../../../src/core/strategy/types.js';

/** Order actions that refuse every submit (the order is never stored) and find no order to cancel. */
const refusing: OrderActions = {
  place: async () => {
    throw new AppError('RISK_LIMIT_EXCEEDED', 'The order is worth 650 USDT, above the per-order cap of 100 USDT.');
  },
  cancel: async (_s, id) => {
    throw new AppError('NOT_FOUND', `There is no order ${id}.`);
  },
  order: async () => null,
  fills: async () => [],
};

describe('the order path', () => {
  it('a cancel of an order that was refused is not an error, and leaves the refusal as the last error', async () => {
    const runtime: ExecutorRuntime = { order_seq: 0, fills_seen: {}, last_seen: {}, error_count: 0, last_error: null };
    const s: OrderSender = { kind: 'executor', id: 'ex_1', account: 'desk', principal: { name: 'tess', role: 'trader', accounts: null, stored: false, channel: 'rest' }, outbox: [], runtime };
    const path = new OrderPath(refusing);
    const sink = path.sink(s);
    sink.submit({ clientOrderId: 'ex_1-o1', connector: 'sim', tradingPair: 'BTC-USDT', side: 'buy', type: 'market', amount: new Decimal('0.01') });
    sink.cancel('sim', 'BTC-USDT', 'ex_1-o1');
    const updates: OrderUpdate[] = [];
    expect(await path.flush(s, 0, (u) => updates.push(u))).toBe(2);
    expect(updates.map((u) => [u.clientOrderId, u.state])).toEqual([['ex_1-o1', 'rejected']]);
    expect(runtime).toMatchObject({ error_count: 1, last_error: 'The order is worth 650 USDT, above the per-order cap of 100 USDT.' });
  });
});
