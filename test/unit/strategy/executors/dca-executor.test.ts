import { describe, expect, it } from 'vitest';
import { DcaExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../../src/core/strategy/executors/registry.js';
import { ExecutorDesk, type DeskOptions } from '../../../helpers/executor-desk.js';

const MIN = 60_000;

function setup(cfg: Record<string, unknown>, desk: DeskOptions = {}) {
  const config = DcaExecutorConfig.parse({ type: 'dca', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amounts_quote: ['100', '90'], prices: ['100', '90'], ...cfg });
  const d = new ExecutorDesk(desk);
  d.executor = createExecutor(config, 'dca-1', 0);
  return { d, e: d.executor };
}

const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const rep = (d: ExecutorDesk) => plain(d.executor!.report(d.ctx));
const orders = (d: ExecutorDesk) => d.submitted.map((o) => [o.side, o.type, o.amount.toString(), o.price?.toString() ?? null]);

describe('dca executor', () => {
  it('maker: rests every level, takes profit on the average entry, fees and PnL exact', () => {
    const { d, e } = setup({ take_profit: 0.02, stop_loss: 0.1 }, { feeRate: '0.001' });
    d.tick(0, '101');
    expect(orders(d)).toEqual([
      ['buy', 'limit', '1', '100'],
      ['buy', 'limit', '1', '90'],
    ]);
    d.fill('o1');
    d.tick(MIN, '95');
    d.fill('o2');
    expect(rep(d)).toMatchObject({ entryPrice: '95', positionAmount: '2', custom: { take_profit_price: '96.9', stop_loss_price: '85.5' } });
    d.tick(2 * MIN, '96.8');
    expect(e.status).toBe('active');
    d.tick(3 * MIN, '96.9');
    expect(e.closeType).toBe('TAKE_PROFIT');
    expect(orders(d)[2]).toEqual(['sell', 'market', '2', null]);
    expect(rep(d)).toMatchObject({ realizedPnl: '3.8', fees: '0.3838', netPnl: '3.4162', volume: '383.8', netPnlPct: '0.01798' });
  });

  it('taker short: each level sells at market when the bid reaches it; the stop loss is on the average entry', () => {
    const { d, e } = setup({ side: 'sell', amounts_quote: ['100', '110'], prices: ['100', '110'], mode: 'taker', stop_loss: 0.12 });
    d.run([[0, '99'], [MIN, '100']]);
    expect(orders(d)).toEqual([['sell', 'market', '1', null]]);
    d.tick(2 * MIN, '110');
    expect(rep(d)).toMatchObject({ entryPrice: '105', positionAmount: '2', custom: { stop_loss_price: '117.6' } });
    d.tick(3 * MIN, '117.5');
    expect(e.status).toBe('active');
    d.tick(4 * MIN, '117.6');
    expect(e.closeType).toBe('STOP_LOSS');
    expect(orders(d)[2]).toEqual(['buy', 'market', '2', null]);
    expect(rep(d).realizedPnl).toBe('-25.2');
  });

  it('barriers are checked before new levels: a jump past the stop closes without sending the next level', () => {
    const { d, e } = setup({ mode: 'taker', stop_loss: 0.05 });
    d.run([[0, '100'], [MIN, '90']]);
    expect(e.closeType).toBe('STOP_LOSS');
    expect(orders(d)).toEqual([
      ['buy', 'market', '1', null],
      ['sell', 'market', '1', null],
    ]);
  });

  it('activation bounds: a level rests only once the mid is within the bound of it', () => {
    const { d } = setup({ activation_bounds: [0.02] });
    d.tick(0, '103');
    expect(d.submitted).toHaveLength(0);
    d.tick(MIN, '101.5');
    expect(orders(d)).toEqual([['buy', 'limit', '1', '100']]);
    d.tick(2 * MIN, '91.9');
    expect(d.submitted).toHaveLength(1);
    d.tick(3 * MIN, '91.5');
    expect(orders(d)[1]).toEqual(['buy', 'limit', '1', '90']);
  });

  it('time limit: EXPIRED with nothing filled (levels cancelled), TIME_LIMIT with a position', () => {
    const a = setup({ time_limit: 300 });
    a.d.run([[0, '101'], [300_000, '101']]);
    expect([a.e.closeType, a.d.cancels]).toEqual(['EXPIRED', ['o1', 'o2']]);
    const b = setup({ time_limit: 300 });
    b.d.tick(0, '101').fill('o1');
    b.d.tick(300_000, '102');
    expect([b.e.closeType, b.d.cancels]).toEqual(['TIME_LIMIT', ['o2']]);
    expect(rep(b.d).realizedPnl).toBe('2');
  });

  it('a rejected level ends it before any fill, and only drops the level after one', () => {
    const a = setup({});
    a.d.tick(0, '101').reject('o1', 'INSUFFICIENT_BALANCE');
    expect([a.e.closeType, a.d.cancels]).toEqual(['INSUFFICIENT_BALANCE', ['o2']]);
    const b = setup({});
    b.d.tick(0, '101').fill('o1').reject('o2', 'INSUFFICIENT_BALANCE');
    expect(b.e.status).toBe('active');
    b.d.tick(MIN, '80');
    expect(b.d.submitted).toHaveLength(2);
  });

  it('idle band: unsent taker levels and the barriers of what is held; a bounded maker level by its activation edge', () => {
    const a = setup({ mode: 'taker', stop_loss: 0.05, take_profit: 0.02, time_limit: 600 });
    a.d.tick(0, '101');
    expect(a.e.idleBand!()).toEqual({ low: 100, high: Infinity, until: 600_000 });
    a.d.tick(1000, '100');
    expect(a.e.idleBand!()).toEqual({ low: 95, high: 102, until: 600_000 });
    a.d.tick(2000, '101.99');
    expect(a.e.status).toBe('active');
    a.d.tick(3000, '102');
    expect(a.e.closeType).toBe('TAKE_PROFIT');
    expect(a.e.idleBand!()).toBeNull();

    const b = setup({ activation_bounds: [0.02] });
    b.d.tick(0, '103');
    expect(b.e.idleBand!()).toEqual({ low: 102, high: Infinity, until: Infinity });
    b.d.tick(1000, '102');
    expect(b.d.submitted).toHaveLength(1);
    expect(b.e.idleBand!()).toEqual({ low: 91.8, high: Infinity, until: Infinity });
    const c = setup({});
    expect(c.e.idleBand!()).toBeNull();
  });

  it('stop keeping the position holds it', () => {
    const { d, e } = setup({});
    d.tick(0, '101').fill('o1');
    e.stop(d.ctx, true);
    expect([e.closeType, e.status, d.cancels, d.submitted.length]).toEqual(['POSITION_HOLD', 'terminated', ['o2'], 2]);
  });

  it('trailing stop on the average entry; restored mid-run it continues as the uninterrupted run', () => {
    const cfg = { amounts_quote: ['104', '96'], prices: ['104', '96'], trailing_stop: { activation_price: 0.03, trailing_delta: 0.01 } };
    const script = (d: ExecutorDesk, from: number, to: number) => {
      const steps: Array<() => void> = [
        () => d.tick(0, '105'),
        () => d.fill('o1'),
        () => d.tick(MIN, '96').fill('o2'),
        () => d.tick(2 * MIN, '103'),
        () => d.tick(3 * MIN, '104'),
        () => d.tick(4 * MIN, '103'),
        () => d.tick(5 * MIN, '102.9'),
      ];
      for (const s of steps.slice(from, to)) s();
    };
    const whole = setup(cfg, { feeRate: '0.001' });
    script(whole.d, 0, 7);
    expect(whole.e.closeType).toBe('TRAILING_STOP');
    expect(rep(whole.d)).toMatchObject({ realizedPnl: '5.8', closedAt: 5 * MIN });
    const cut = setup(cfg, { feeRate: '0.001' });
    script(cut.d, 0, 5);
    expect(rep(cut.d).custom.trailing_stop_price).toBe('103');
    cut.d.executor = restoreExecutor(JSON.parse(JSON.stringify(cut.e.state())));
    script(cut.d, 5, 7);
    expect(plain(cut.d.submitted)).toEqual(plain(whole.d.submitted));
    expect(rep(cut.d)).toEqual(rep(whole.d));
  });
});
