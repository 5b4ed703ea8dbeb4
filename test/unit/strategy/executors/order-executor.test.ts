import { describe, expect, it } from 'vitest';
import { OrderExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import { ExecutorDesk, type DeskOptions } from '../../../helpers/executor-desk.js';

function setup(cfg: Record<string, unknown>, desk: DeskOptions = {}) {
  const config = OrderExecutorConfig.parse({ type: 'order', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '2', ...cfg });
  const d = new ExecutorDesk(desk);
  d.executor = createExecutor(config, 'ord-1', 0);
  return { d, e: d.executor };
}

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const rep = (d: ExecutorDesk) => plain(d.executor!.report(d.ctx));
const prices = (d: ExecutorDesk) => d.submitted.map((o) => o.price?.toString() ?? null);

describe('order executor', () => {
  it('market: fills at the touch and completes, fees exact', () => {
    const { d, e } = setup({}, { feeRate: '0.001' });
    d.setQuote('99.9', '100').tick(0);
    expect(d.submitted[0]).toMatchObject({ type: 'market', side: 'buy' });
    expect(e.closeType).toBe('COMPLETED');
    expect(e.status).toBe('terminated');
    expect(rep(d)).toMatchObject({ positionAmount: '2', entryPrice: '100', volume: '200', fees: '0.2', unrealizedPnl: '-0.2', netPnl: '-0.4', netPnlPct: '-0.002' });
  });

  it('limit at a price: partial fills, then completes', () => {
    const { d, e } = setup({ execution_strategy: 'limit', price: '99' });
    d.tick(0, '100');
    expect(d.submitted[0]).toMatchObject({ type: 'limit' });
    expect(prices(d)).toEqual(['99']);
    d.fill('o1', { amount: '0.5' });
    expect(e.status).toBe('active');
    expect(rep(d).custom.executed_amount).toBe('0.5');
    d.fill('o1', { amount: '1.5', price: '98.5' });
    expect(e.closeType).toBe('COMPLETED');
    expect(rep(d).entryPrice).toBe('98.625');
  });

  it('an order the venue quantised down and filled completes without chasing the dust', () => {
    const { d, e } = setup({ amount: '1.23456789' }, { autoFillMarket: false });
    d.tick(0, '100').fill('o1', { amount: '1.2345', complete: true });
    d.tick(1000, '100');
    expect([e.closeType, d.submitted.length]).toEqual(['COMPLETED', 1]);
    expect(rep(d).positionAmount).toBe('1.2345');
  });

  it('limit maker without a price rests at the touch (bid for a buy, ask for a sell)', () => {
    const a = setup({ execution_strategy: 'limit_maker' });
    a.d.setQuote('99.9', '100.1').tick(0);
    expect(a.d.submitted[0]).toMatchObject({ type: 'limit_maker' });
    expect(prices(a.d)).toEqual(['99.9']);
    const b = setup({ execution_strategy: 'limit_maker', side: 'sell' });
    b.d.setQuote('99.9', '100.1').tick(0);
    expect(prices(b.d)).toEqual(['100.1']);
  });

  it('chaser: rests distance behind the bid, re-places what is left when the target moved past the threshold', () => {
    const { d, e } = setup({ execution_strategy: 'limit_chaser', amount: '1', chaser: { distance: 0.01, refresh_threshold: 0.02 } });
    d.tick(0, '100');
    expect(prices(d)).toEqual(['99']);
    d.fill('o1', { amount: '0.3' });
    d.tick(1000, '101');
    expect(d.submitted).toHaveLength(1);
    d.tick(2000, '102.1');
    expect(d.cancels).toEqual(['o1']);
    expect(prices(d)).toEqual(['99', '101.079']);
    expect(d.last().amount.toString()).toBe('0.7');
    d.fill('o2');
    expect(e.closeType).toBe('COMPLETED');
    expect(rep(d).entryPrice).toBe('100.4553');
  });

  it('chaser with a cancel confirmed later places nothing until the confirmation', () => {
    const { d } = setup({ execution_strategy: 'limit_chaser', amount: '1', chaser: { distance: 0.01, refresh_threshold: 0.02 } }, { autoCancel: false });
    d.run([[0, '100'], [1000, '103'], [2000, '104']]);
    expect(d.cancels).toEqual(['o1']);
    expect(d.submitted).toHaveLength(1);
    d.cancel('o1');
    expect(prices(d)).toEqual(['99', '102.96']);
  });

  it('the report says why the venue refused: the first refusal, kept across a restore', () => {
    const a = setup({}, { autoFillMarket: false });
    a.d.tick(0, '100');
    expect(rep(a.d).custom.first_refusal).toBeUndefined();
    a.d.reject('o1', 'INSUFFICIENT_BALANCE');
    expect(rep(a.d).custom.first_refusal).toEqual({ code: 'INSUFFICIENT_BALANCE', reason: 'INSUFFICIENT_BALANCE' });
    const again = restoreExecutor(plain(a.e.state()));
    expect(plain(again.report(a.d.ctx)).custom.first_refusal).toEqual({ code: 'INSUFFICIENT_BALANCE', reason: 'INSUFFICIENT_BALANCE' });
    const b = setup({}, { autoFillMarket: false });
    b.d.tick(0, '100').fill('o1', { amount: '1' }).cancel('o1');
    b.d.reject('o2', 'VALIDATION_FAILED');
    expect(rep(b.d).custom).toMatchObject({ first_refusal: { code: 'VALIDATION_FAILED', reason: 'VALIDATION_FAILED' } });
  });

  it('rejections: INSUFFICIENT_BALANCE before any fill, FAILED otherwise; a venue cancel is re-placed at most 3 times', () => {
    const a = setup({}, { autoFillMarket: false });
    a.d.tick(0, '100').reject('o1', 'INSUFFICIENT_BALANCE');
    expect(a.e.closeType).toBe('INSUFFICIENT_BALANCE');
    const b = setup({}, { autoFillMarket: false });
    b.d.tick(0, '100').fill('o1', { amount: '1' }).cancel('o1');
    expect(b.d.last().amount.toString()).toBe('1');
    b.d.reject('o2', 'INSUFFICIENT_BALANCE');
    expect(b.e.closeType).toBe('FAILED');
    const c = setup({ execution_strategy: 'limit_maker', price: '100' });
    c.d.tick(0, '100');
    for (const id of ['o1', 'o2', 'o3']) c.d.cancel(id);
    expect(c.e.status).toBe('active');
    c.d.cancel('o4');
    expect(c.e.closeType).toBe('FAILED');
    expect(c.d.submitted).toHaveLength(4);
  });

  it('stop: keep → POSITION_HOLD; close → EARLY_STOP selling what filled; a closing order is never reversed', () => {
    const a = setup({ execution_strategy: 'limit', price: '100' });
    a.d.tick(0, '100').fill('o1', { amount: '0.5' });
    a.e.stop(a.d.ctx, true);
    expect([a.e.closeType, a.e.status, a.d.cancels]).toEqual(['POSITION_HOLD', 'terminated', ['o1']]);
    const b = setup({ execution_strategy: 'limit', price: '100' });
    b.d.tick(0, '100').fill('o1', { amount: '0.5' });
    b.d.setPrice('101');
    b.e.stop(b.d.ctx, false);
    expect(b.e.closeType).toBe('EARLY_STOP');
    expect(b.d.last()).toMatchObject({ side: 'sell', type: 'market' });
    expect(rep(b.d)).toMatchObject({ realizedPnl: '0.5', positionAmount: '0' });
    const c = setup({ execution_strategy: 'limit', price: '100', position_action: 'close', side: 'sell' });
    c.d.tick(0, '100').fill('o1', { amount: '0.5' });
    c.e.stop(c.d.ctx, false);
    expect(c.e.closeType).toBe('EARLY_STOP');
    expect(c.d.submitted).toHaveLength(1);
  });

  it('idle band: a resting order waits for updates; a chaser wakes exactly where its target leaves the threshold', () => {
    const a = setup({ execution_strategy: 'limit', price: '99' });
    a.d.tick(0, '100');
    expect(a.e.idleBand!()).toEqual({ low: -Infinity, high: Infinity, until: Infinity });
    const { d, e } = setup({ execution_strategy: 'limit_chaser', amount: '1', chaser: { distance: 0.01, refresh_threshold: 0.02 } });
    d.tick(0, '100');
    // resting at 99: the target 0.99 × p moves more than 2% of 99 away above p = 102 and below p = 98
    const band = e.idleBand!()!;
    expect(band.low).toBeLessThan(98);
    expect(band.low).toBeGreaterThan(98 - 1e-12);
    expect(band.high).toBeGreaterThan(102);
    expect(band.high).toBeLessThan(102 + 1e-12);
    d.run([[1000, 102], [2000, 98]]);
    expect(d.submitted).toHaveLength(1);
    d.tick(3000, band.high);
    expect(d.cancels).toEqual(['o1']);
  });

  it('restored mid-chase it continues exactly as the uninterrupted run', () => {
    const cfg = { execution_strategy: 'limit_chaser', amount: '1', chaser: { distance: 0.01, refresh_threshold: 0.02 } };
    const script = (d: ExecutorDesk, from: number, to: number) => {
      const steps: Array<() => void> = [
        () => d.tick(0, '100'),
        () => d.fill('o1', { amount: '0.3' }),
        () => d.tick(1000, '102.1'),
        () => d.fill('o2', { amount: '0.2' }),
        () => d.tick(2000, '105'),
        () => d.fill('o3'),
      ];
      for (const s of steps.slice(from, to)) s();
    };
    const whole = setup(cfg, { feeRate: '0.001' });
    script(whole.d, 0, 6);
    const cut = setup(cfg, { feeRate: '0.001' });
    script(cut.d, 0, 4);
    cut.d.executor = restoreExecutor(JSON.parse(JSON.stringify(cut.e.state())));
    script(cut.d, 4, 6);
    expect(whole.e.closeType).toBe('COMPLETED');
    expect(plain(cut.d.submitted)).toEqual(plain(whole.d.submitted));
    expect(rep(cut.d)).toEqual(rep(whole.d));
  });
});
