import { describe, expect, it } from 'vitest';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import { ExecutorDesk } from '../../../helpers/executor-desk.js';

const common = { connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy' };
const CONFIGS = [
  { type: 'position', ...common, amount: '1', triple_barrier: { stop_loss: 0.01, take_profit: 0.02, take_profit_order_type: 'limit' } },
  { type: 'order', ...common, amount: '1', execution_strategy: 'limit_chaser' },
  { type: 'dca', ...common, amounts_quote: ['100', '90'], prices: ['100', '90'] },
  { type: 'grid', ...common, start_price: '90', end_price: '110', total_amount_quote: '100' },
  { type: 'twap', ...common, total_amount_quote: '100', total_duration: 60, order_interval: 30, mode: 'maker' },
];

describe('executor registry', () => {
  it.each(CONFIGS)('$type: state() of a running executor restores to the same state and type', (raw) => {
    const d = new ExecutorDesk();
    d.executor = createExecutor(ExecutorConfig.parse(raw), `x-${raw.type}`, 5);
    d.tick(10, '100');
    const e = d.executor;
    expect([e.type, e.status, e.id]).toEqual([raw.type, 'active', `x-${raw.type}`]);
    const state = JSON.parse(JSON.stringify(e.state()));
    const back = restoreExecutor(state);
    expect([back.type, back.id, back.status]).toEqual([e.type, e.id, e.status]);
    expect(back.openOrderIds()).toEqual(e.openOrderIds());
    expect(back.state()).toEqual(e.state());
    expect(JSON.parse(JSON.stringify(back.report(d.ctx)))).toEqual(JSON.parse(JSON.stringify(e.report(d.ctx))));
  });

  it('a terminated executor restores terminated and does nothing more', () => {
    const d = new ExecutorDesk();
    d.executor = createExecutor(ExecutorConfig.parse(CONFIGS[0]), 'p', 0);
    d.tick(0, '100');
    d.executor.stop(d.ctx, false);
    expect(d.executor.closeType).toBe('EARLY_STOP');
    const sent = d.submitted.length;
    d.executor = restoreExecutor(JSON.parse(JSON.stringify(d.executor.state())));
    d.tick(1000, '50');
    expect([d.executor.status, d.executor.closeType, d.submitted.length]).toEqual(['terminated', 'EARLY_STOP', sent]);
  });

  it('a state whose config does not parse is refused', () => {
    const state = createExecutor(ExecutorConfig.parse(CONFIGS[1]), 'o', 0).state();
    expect(() => restoreExecutor({ ...state, config: { ...(state.config as object), amount: '-1' } })).toThrow();
  });
});
