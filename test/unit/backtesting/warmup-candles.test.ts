import { describe, expect, it } from 'vitest';
import { warmupCandles } from '../../../src/core/backtesting/backtest-job.js';
import { BacktestSpec } from '../../../src/core/backtest/spec.js';
import { bollingerV1 } from '../../../src/core/strategy/controllers/index.js';

const spec = (resolution: string) => BacktestSpec.parse({ controller: { name: 'bollinger_v1' }, connector: 'sim', trading_pair: 'BTC-USDT', start: 0, end: 0, resolution });
const config = (c: Record<string, unknown>) => bollingerV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', ...c });

describe('warm-up candles of a backtest', () => {
  it('covers the controller warm-up, in candles of the resolution', () => {
    const c = config({ interval: '1m', bb_length: 100 });
    expect(warmupCandles(bollingerV1, c, spec('1m'))).toBeGreaterThanOrEqual(100);
  });

  it('scales a coarser controller interval to the finer resolution', () => {
    const at1m = warmupCandles(bollingerV1, config({ interval: '5m', bb_length: 100 }), spec('1m'));
    const at5m = warmupCandles(bollingerV1, config({ interval: '5m', bb_length: 100 }), spec('5m'));
    expect(at5m).toBeGreaterThanOrEqual(100);
    expect(at1m).toBe(at5m * 5);
  });
});
