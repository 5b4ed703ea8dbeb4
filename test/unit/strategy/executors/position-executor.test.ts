import { describe, expect, it } from 'vitest';
import { PositionExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import type { Executor } from '../../../../src/core/strategy/types.js';
import { ExecutorDesk, type DeskOptions } from '../../../helpers/executor-desk.js';

const MIN = 60_000;

function setup(cfg: Record<string, unknown>, desk: DeskOptions = {}) {
  const config = PositionExecutorConfig.parse({ type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '2', ...cfg });
  const d = new ExecutorDesk(desk);
  d.executor = createExecutor(config, 'pos-1', 0);
  return { d, e: d.executor };
}

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const rep = (d: ExecutorDesk) => plain(d.executor!.report(d.ctx));

describe('position executor', () => {
  it('opens at market, closes at the take profit with exact fees and PnL', () => {
    const { d, e } = setup({ triple_barrier: { stop_loss: 0.02, take_profit: 0.03, time_limit: 3600 } }, { feeRate: '0.001' });
    d.tick(0, '100');
    expect(d.submitted).toHaveLength(1);
    expect(d.submitted[0]).toMatchObject({ clientOrderId: 'o1', side: 'buy', type: 'market' });
    expect(e.status).toBe('active');
    d.run([[MIN, '101'], [2 * MIN, '102.9']]);
    expect(d.submitted).toHaveLength(1);
    expect(rep(d)).toMatchObject({ positionAmount: '2', entryPrice: '100', unrealizedPnl: '5.8', custom: { stop_loss_price: '98', take_profit_price: '103' } });
    d.tick(3 * MIN, '103');
    expect(d.last()).toMatchObject({ side: 'sell', type: 'market' });
    expect(d.last().amount.toString()).toBe('2');
    expect(d.last().positionAction).toBeUndefined();
    expect(e.status).toBe('terminated');
    expect(e.closeType).toBe('TAKE_PROFIT');
    expect(rep(d)).toMatchObject({
      closedAt: 3 * MIN,
      positionAmount: '0',
      realizedPnl: '6',
      fees: '0.406',
      volume: '406',
      unrealizedPnl: '0',
      netPnl: '5.594',
      netPnlPct: '0.02797',
    });
  });

  it('a short is marked at the ask and stops out at entry × (1 + sl)', () => {
    const { d, e } = setup({ side: 'sell', amount: '1', triple_barrier: { stop_loss: 0.02 } });
    d.setQuote('99.9', '100');
    d.tick(0);
    expect(d.order('o1').notional.toString()).toBe('99.9');
    d.setQuote('101.7', '101.8');
    d.tick(MIN);
    expect(e.status).toBe('active');
    // ask 101.9 is +2.002% against the 99.9 entry; the bid alone would not have stopped it
    d.setQuote('101.8', '101.9');
    d.tick(2 * MIN);
    expect(e.closeType).toBe('STOP_LOSS');
    expect(d.last()).toMatchObject({ side: 'buy', type: 'market' });
    expect(rep(d).realizedPnl).toBe('-2');
  });

  it('when one tick crosses both the armed trailing trigger and the stop loss, the stop loss wins', () => {
    const { d, e } = setup({ amount: '1', triple_barrier: { stop_loss: 0.02, trailing_stop: { activation_price: 0.01, trailing_delta: 0.005 } } });
    d.run([[0, '100'], [MIN, '101.5']]);
    expect(rep(d).custom.trailing_stop_price).toBe('101');
    d.tick(2 * MIN, '97');
    expect(e.closeType).toBe('STOP_LOSS');
    expect(rep(d).realizedPnl).toBe('-3');
  });

  it('trailing stop arms at the activation PnL, ratchets with the peak and fires below the trigger', () => {
    const { d, e } = setup({ amount: '1', triple_barrier: { trailing_stop: { activation_price: 0.02, trailing_delta: 0.01 } } });
    d.run([[0, '100'], [MIN, '101']]);
    expect(rep(d).custom.trailing_stop_price).toBeNull();
    d.tick(2 * MIN, '102');
    expect(rep(d).custom.trailing_stop_price).toBe('101');
    d.tick(3 * MIN, '104');
    expect(rep(d).custom).toMatchObject({ trailing_stop_price: '103', trailing_trigger_pnl: '0.03' });
    d.run([[4 * MIN, '103.5'], [5 * MIN, '103']]);
    expect(e.status).toBe('active');
    d.tick(6 * MIN, '102.9');
    expect(e.closeType).toBe('TRAILING_STOP');
    expect(rep(d)).toMatchObject({ realizedPnl: '2.9', closedAt: 6 * MIN });
  });

  it('time limit: an unfilled limit open is cancelled and ends EXPIRED; a held position closes as TIME_LIMIT', () => {
    const a = setup({ entry_price: '99', triple_barrier: { open_order_type: 'limit', time_limit: 600 } });
    a.d.run([[0, '100'], [300_000, '100']]);
    expect(a.d.submitted[0]).toMatchObject({ type: 'limit' });
    expect(a.d.submitted[0]!.price!.toString()).toBe('99');
    a.d.tick(600_000, '100');
    expect(a.d.cancels).toEqual(['o1']);
    expect(a.e.closeType).toBe('EXPIRED');
    expect(a.e.status).toBe('terminated');
    expect(a.d.submitted).toHaveLength(1);

    const b = setup({ triple_barrier: { time_limit: 600 } });
    b.d.run([[0, '100'], [599_999, '100.5']]);
    expect(b.e.status).toBe('active');
    b.d.tick(600_000, '100.25');
    expect(b.e.closeType).toBe('TIME_LIMIT');
    expect(rep(b.d).realizedPnl).toBe('0.5');
  });

  it('created past its deadline it ends EXPIRED without placing anything', () => {
    const { d, e } = setup({ triple_barrier: { time_limit: 60 } });
    d.tick(60_000, '100');
    expect(e.closeType).toBe('EXPIRED');
    expect(d.submitted).toHaveLength(0);
  });

  it('a partly filled limit open: barriers act on what filled, the rest is cancelled', () => {
    const { d, e } = setup({ entry_price: '100', triple_barrier: { open_order_type: 'limit', stop_loss: 0.02 } }, { feeRate: '0.001' });
    d.tick(0, '100.2');
    d.fill('o1', { amount: '0.5' });
    expect(e.openOrderIds()).toEqual(['o1']);
    d.tick(MIN, '98.5');
    expect(e.status).toBe('active');
    d.tick(2 * MIN, '97.5');
    expect(d.cancels).toEqual(['o1']);
    expect(d.last()).toMatchObject({ clientOrderId: 'o2', side: 'sell', type: 'market' });
    expect(d.last().amount.toString()).toBe('0.5');
    expect(e.closeType).toBe('STOP_LOSS');
    expect(rep(d)).toMatchObject({ realizedPnl: '-1.25', fees: '0.09875', netPnl: '-1.34875', volume: '98.75', entryPrice: '100' });
  });

  it('a close that fills partly and is cancelled by the venue is topped up for the rest', () => {
    const { d, e } = setup({ triple_barrier: { stop_loss: 0.02 } }, { autoFillMarket: false });
    d.tick(0, '100').fill('o1');
    d.tick(MIN, '97');
    d.fill('o2', { amount: '1.5' }).cancel('o2');
    expect(e.status).toBe('shutting_down');
    expect(d.last()).toMatchObject({ clientOrderId: 'o3', side: 'sell', type: 'market' });
    expect(d.last().amount.toString()).toBe('0.5');
    d.fill('o3', { price: '96' });
    expect([e.status, e.closeType]).toEqual(['terminated', 'STOP_LOSS']);
    expect(rep(d).realizedPnl).toBe('-6.5');
  });

  it('an open order that fills while its cancel is pending is closed too before the executor ends', () => {
    const { d, e } = setup({ entry_price: '100', triple_barrier: { open_order_type: 'limit', stop_loss: 0.02 } }, { autoCancel: false });
    d.tick(0, '100').fill('o1', { amount: '0.5' });
    d.tick(MIN, '97');
    expect(d.cancels).toEqual(['o1']);
    expect(rep(d).positionAmount).toBe('0');
    expect(e.status).toBe('shutting_down');
    d.fill('o1', { amount: '0.3' });
    expect(d.last()).toMatchObject({ clientOrderId: 'o3', side: 'sell' });
    expect(d.last().amount.toString()).toBe('0.3');
    expect(e.status).toBe('shutting_down');
    d.cancel('o1');
    expect([e.status, e.closeType]).toEqual(['terminated', 'STOP_LOSS']);
    expect(rep(d)).toMatchObject({ positionAmount: '0', realizedPnl: '-2.4' });
  });

  it('a limit take profit rests at entry × (1 + tp) once the open fills; its fills end it as TAKE_PROFIT', () => {
    const { d, e } = setup({ amount: '1', triple_barrier: { take_profit: 0.03, stop_loss: 0.05, take_profit_order_type: 'limit' } });
    d.tick(0, '100');
    expect(d.submitted).toHaveLength(2);
    expect(d.last()).toMatchObject({ clientOrderId: 'o2', side: 'sell', type: 'limit' });
    expect(d.last().price!.toString()).toBe('103');
    d.tick(MIN, '103.5');
    expect(e.status).toBe('active');
    d.fill('o2', { amount: '0.4' });
    expect(e.status).toBe('active');
    d.fill('o2');
    expect(e.closeType).toBe('TAKE_PROFIT');
    expect(e.status).toBe('terminated');
    expect(rep(d)).toMatchObject({ realizedPnl: '3', positionAmount: '0' });
  });

  it('a rejected open ends INSUFFICIENT_BALANCE when the venue says so, FAILED otherwise', () => {
    const a = setup({}, { autoFillMarket: false });
    a.d.tick(0, '100');
    a.d.reject('o1', 'INSUFFICIENT_BALANCE');
    expect(a.e.closeType).toBe('INSUFFICIENT_BALANCE');
    expect(a.e.status).toBe('terminated');
    const b = setup({}, { autoFillMarket: false });
    b.d.tick(0, '100');
    b.d.reject('o1', 'KILL_SWITCH_ACTIVE');
    expect(b.e.closeType).toBe('FAILED');
  });

  it('a close refused three times ends FAILED with the position left', () => {
    const { d, e } = setup({ triple_barrier: { stop_loss: 0.01 } }, { autoFillMarket: false });
    d.tick(0, '100');
    d.fill('o1');
    d.tick(MIN, '98');
    d.reject('o2', 'EXCHANGE_ERROR');
    d.reject('o3', 'EXCHANGE_ERROR');
    expect(e.status).toBe('shutting_down');
    d.reject('o4', 'EXCHANGE_ERROR');
    expect(e.status).toBe('terminated');
    expect(e.closeType).toBe('FAILED');
    expect(rep(d).positionAmount).toBe('2');
  });

  it('stop keeps the position (POSITION_HOLD) or closes it (EARLY_STOP)', () => {
    const a = setup({ triple_barrier: { take_profit: 0.1, take_profit_order_type: 'limit' } });
    a.d.tick(0, '100');
    a.e.stop(a.d.ctx, true);
    expect(a.d.cancels).toEqual(['o2']);
    expect(a.e.closeType).toBe('POSITION_HOLD');
    expect(a.e.status).toBe('terminated');
    expect(a.d.submitted).toHaveLength(2);
    expect(rep(a.d).positionAmount).toBe('2');

    const b = setup({});
    b.d.tick(0, '100');
    b.d.setPrice('101');
    b.e.stop(b.d.ctx, false);
    expect(b.e.closeType).toBe('EARLY_STOP');
    expect(b.d.last()).toMatchObject({ side: 'sell', type: 'market' });
    expect(rep(b.d)).toMatchObject({ realizedPnl: '2', positionAmount: '0' });
  });

  it('on a perpetual connector orders carry the position action and leverage', () => {
    const { d } = setup({ connector_name: 'sim_perpetual', leverage: 5, side: 'sell', triple_barrier: { take_profit: 0.01 } });
    d.run([[0, '100'], [MIN, '99']]);
    expect(d.submitted.map((o) => [o.side, o.positionAction, o.leverage])).toEqual([
      ['sell', 'open', 5],
      ['buy', 'close', 5],
    ]);
  });

  it('restored from state() mid-run it continues exactly as the uninterrupted run', () => {
    const path: Array<[number, string]> = [[0, '100'], [MIN, '101'], [2 * MIN, '102'], [3 * MIN, '104'], [4 * MIN, '103.5'], [5 * MIN, '103'], [6 * MIN, '102.9']];
    const cfg = { amount: '1', triple_barrier: { stop_loss: 0.05, take_profit: 0.1, take_profit_order_type: 'limit', trailing_stop: { activation_price: 0.02, trailing_delta: 0.01 } } };
    const whole = setup(cfg, { feeRate: '0.0005' });
    whole.d.run(path);
    const cut = setup(cfg, { feeRate: '0.0005' });
    cut.d.run(path.slice(0, 4));
    const saved = JSON.stringify(cut.e.state());
    const restored: Executor = restoreExecutor(JSON.parse(saved));
    expect(JSON.stringify(restored.state())).toBe(saved);
    cut.d.executor = restored;
    cut.d.run(path.slice(4));
    expect(whole.e.closeType).toBe('TRAILING_STOP');
    expect(plain(cut.d.submitted)).toEqual(plain(whole.d.submitted));
    expect(rep(cut.d)).toEqual(rep(whole.d));
    expect(restored.state()).toEqual(whole.e.state());
  });
});
