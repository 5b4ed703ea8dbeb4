import { describe, expect, it } from 'vitest';
import { TwapExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import { ExecutorDesk, type DeskOptions } from '../../../helpers/executor-desk.js';

const S = 1000;

function setup(cfg: Record<string, unknown>, desk: DeskOptions = {}) {
  const config = TwapExecutorConfig.parse({ type: 'twap', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', total_amount_quote: '400', total_duration: 240, order_interval: 60, ...cfg });
  const d = new ExecutorDesk(desk);
  d.executor = createExecutor(config, 'twap-1', 0);
  return { d, e: d.executor };
}

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const rep = (d: ExecutorDesk) => plain(d.executor!.report(d.ctx));
const orders = (d: ExecutorDesk) => d.submitted.map((o) => [o.side, o.type, o.amount.toString(), o.price?.toString() ?? null]);

describe('twap executor', () => {
  it('taker: one market slice per interval for quote / ask, completes after the last', () => {
    const { d, e } = setup({}, { feeRate: '0.001' });
    d.run([[0, '100'], [30 * S, '90'], [60 * S, '100'], [119 * S, '70'], [120 * S, '50']]);
    expect(e.status).toBe('active');
    expect(rep(d).custom).toMatchObject({ slices: 4, slices_done: 3, slice_quote: '100', next_slice_at: 180 * S });
    d.tick(180 * S, '25');
    expect(orders(d)).toEqual([
      ['buy', 'market', '1', null],
      ['buy', 'market', '1', null],
      ['buy', 'market', '2', null],
      ['buy', 'market', '4', null],
    ]);
    expect([e.closeType, e.status]).toEqual(['COMPLETED', 'terminated']);
    d.setPrice('50');
    expect(rep(d)).toMatchObject({ positionAmount: '8', entryPrice: '50', volume: '400', fees: '0.4', unrealizedPnl: '0', netPnl: '-0.4', closedAt: 180 * S });
  });

  it('sparse ticks send every slice that came due', () => {
    const { d } = setup({});
    d.run([[0, '100'], [150 * S, '50']]);
    expect(orders(d).map((o) => o[2])).toEqual(['1', '2', '2']);
  });

  it('maker: rests behind the touch, re-places the unfilled rest of a stale slice at the new price', () => {
    const { d, e } = setup({ side: 'sell', total_amount_quote: '200', total_duration: 120, mode: 'maker', limit_order_buffer: 0.25, order_resubmission_time: 30 });
    d.setQuote('99', '100').tick(0);
    expect(orders(d)).toEqual([['sell', 'limit', '0.8', '125']]);
    d.setQuote('79', '80').tick(30 * S);
    expect(d.cancels).toEqual(['o1']);
    expect(orders(d)[1]).toEqual(['sell', 'limit', '1', '100']);
    d.fill('o2', { amount: '0.5' });
    d.tick(60 * S);
    expect(d.cancels).toEqual(['o1', 'o2']);
    expect(orders(d).slice(2)).toEqual([
      ['sell', 'limit', '0.5', '100'],
      ['sell', 'limit', '1', '100'],
    ]);
    d.fill('o3').fill('o4');
    expect(e.closeType).toBe('COMPLETED');
    expect(rep(d)).toMatchObject({ positionAmount: '2', entryPrice: '100', volume: '200' });
  });

  it('idle band: no price matters; it wakes at the next slice, or (maker) when the resting slice goes stale', () => {
    const a = setup({});
    a.d.tick(0, '100');
    expect(a.e.idleBand!()).toEqual({ low: -Infinity, high: Infinity, until: 60 * S });
    const b = setup({ mode: 'maker', order_resubmission_time: 45 });
    b.d.tick(10 * S, '100');
    expect(b.e.idleBand!()).toEqual({ low: -Infinity, high: Infinity, until: 55 * S });
  });

  it('a rejected slice ends it INSUFFICIENT_BALANCE keeping what was bought', () => {
    const { d, e } = setup({}, { autoFillMarket: false });
    d.tick(0, '100').fill('o1');
    d.tick(60 * S, '100').reject('o2', 'INSUFFICIENT_BALANCE');
    expect([e.closeType, e.status, d.submitted.length]).toEqual(['INSUFFICIENT_BALANCE', 'terminated', 2]);
    expect(rep(d).positionAmount).toBe('1');
  });

  it('stop without keeping sells what was bought (EARLY_STOP)', () => {
    const { d, e } = setup({});
    d.run([[0, '100'], [60 * S, '50']]);
    d.setPrice('80');
    e.stop(d.ctx, false);
    expect(e.closeType).toBe('EARLY_STOP');
    expect(orders(d)[2]).toEqual(['sell', 'market', '3', null]);
    expect(rep(d).realizedPnl).toBe('40');
  });

  it('restored mid-run it continues as the uninterrupted run', () => {
    const cfg = { side: 'sell', total_amount_quote: '200', total_duration: 120, mode: 'maker', limit_order_buffer: 0.25, order_resubmission_time: 30 };
    const script = (d: ExecutorDesk, from: number, to: number) => {
      const steps: Array<() => void> = [
        () => d.setQuote('99', '100').tick(0),
        () => d.setQuote('79', '80').tick(30 * S),
        () => d.fill('o2', { amount: '0.5' }),
        () => d.tick(60 * S),
        () => d.fill('o3').fill('o4'),
      ];
      for (const s of steps.slice(from, to)) s();
    };
    const whole = setup(cfg, { feeRate: '0.002' });
    script(whole.d, 0, 5);
    const cut = setup(cfg, { feeRate: '0.002' });
    script(cut.d, 0, 3);
    cut.d.executor = restoreExecutor(JSON.parse(JSON.stringify(cut.e.state())));
    script(cut.d, 3, 5);
    expect(whole.e.closeType).toBe('COMPLETED');
    expect(plain(cut.d.submitted)).toEqual(plain(whole.d.submitted));
    expect(rep(cut.d)).toEqual(rep(whole.d));
  });
});
