import { describe, expect, it } from 'vitest';
import { resultNotes } from '../../../src/core/backtest/result-notes.js';

type Executor = { closeType: string | null; side: string | null; volume: string; custom?: Record<string, unknown> };
const result = (executors: Executor[], opts: { base?: string; gaps?: Array<{ from: string; to: string; candles: number }>; candles?: number; prices?: number[] } = {}) => ({
  executors: executors as never,
  gaps: opts.gaps ?? [],
  initial_balances: { base: opts.base ?? '0', quote: '10000' },
  candles: opts.candles ?? 1000,
  series: { price: opts.prices ?? [] },
});
const traded = (closeType: string, side = 'buy'): Executor => ({ closeType, side, volume: '500.1' });
const refused = (closeType: string, side: string, reason?: string): Executor => ({ closeType, side, volume: '0', ...(reason ? { custom: { first_refusal: { code: closeType, reason } } } : {}) });

describe('backtest result notes', () => {
  it('say nothing when every executor traded and no candle is missing', () => {
    expect(resultNotes(result([traded('TIME_LIMIT'), traded('STOP_LOSS', 'sell')]), 'spot')).toEqual([]);
  });

  it('name refused shorts on a spot market that starts without base', () => {
    const notes = resultNotes(result([traded('TIME_LIMIT'), refused('INSUFFICIENT_BALANCE', 'sell'), refused('INSUFFICIENT_BALANCE', 'sell')]), 'spot');
    expect(notes).toEqual([
      '2 executors of 3 ended INSUFFICIENT_BALANCE without trading: on a spot market a sell needs base, and the backtest starts with none (initial_balances.base is 0); 2 of them were sells. The metrics count only what traded.',
    ]);
  });

  it('give the general reason on a perpetual market, or when there was base to sell', () => {
    const executors = [refused('INSUFFICIENT_BALANCE', 'sell')];
    const general = '1 executor of 1 ended INSUFFICIENT_BALANCE without trading: the balances could not pay for their opening orders. The metrics count only what traded.';
    expect(resultNotes(result(executors), 'perpetual')).toEqual([general]);
    expect(resultNotes(result(executors, { base: '0.5' }), 'spot')).toEqual([general]);
  });

  it('count executors refused by the market rules apart, and ignore those that traded before failing', () => {
    const notes = resultNotes(result([refused('FAILED', 'buy'), traded('FAILED')]), 'spot');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^1 executor of 2 ended FAILED without trading: their opening orders were refused/);
  });

  it('say when the controller never acted, and when candles are missing', () => {
    expect(resultNotes(result([], { prices: [61250.5, 59800, 63010.25] }), 'spot')).toEqual([
      'The controller created no executor over the range: its entry conditions never held (the closes ran from 59800 to 63010.25). Check its thresholds or price bounds against that, or widen the range.',
    ]);
    expect(resultNotes(result([], { candles: 0 }), 'spot')).toEqual([]);
    const gaps = [
      { from: '2024-01-01T00:10:00.000Z', to: '2024-01-01T00:12:00.000Z', candles: 3 },
      { from: '2024-01-02T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z', candles: 1 },
    ];
    expect(resultNotes(result([traded('TIME_LIMIT')], { gaps }), 'spot')).toEqual(['4 candles missing in 2 gaps (listed in the full result): the price path jumps over them, nothing is filled in.']);
  });

  it('quote what the venue said: the one message, or the commonest as an example', () => {
    const tiny = 'Amount 0.000066 is below the minimum 0.001 of BTC-USDT.';
    expect(resultNotes(result([refused('FAILED', 'sell', tiny), refused('FAILED', 'sell', tiny)]), 'perpetual')).toEqual([
      '2 executors of 2 ended FAILED without trading: their opening orders were refused, or (a grid) the market\'s rules could not size one level. The refusal said: "Amount 0.000066 is below the minimum 0.001 of BTC-USDT". The metrics count only what traded.',
    ]);
    const notes = resultNotes(
      result([refused('INSUFFICIENT_BALANCE', 'sell', 'Insufficient BTC: the order needs 0.01 and 0 is free.'), refused('INSUFFICIENT_BALANCE', 'sell', 'Insufficient BTC: the order needs 0.02 and 0 is free.'), refused('INSUFFICIENT_BALANCE', 'sell', 'Insufficient BTC: the order needs 0.02 and 0 is free.')]),
      'spot',
    );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('The refusal said, for example: "Insufficient BTC: the order needs 0.02 and 0 is free". The metrics');
  });
});
