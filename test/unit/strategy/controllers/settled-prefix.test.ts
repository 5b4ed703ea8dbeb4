import { describe, expect, it } from 'vitest';
import { SettledPrefix } from '../../../../src/core/strategy/controllers/base/executors.js';
import { bollingerV1 } from '../../../../src/core/strategy/controllers/bollinger-v1.js';
import type { ExecutorReport } from '../../../../src/core/strategy/types.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const r = (id: string, status: ExecutorReport['status']) => ({ id, status }) as ExecutorReport;

describe('SettledPrefix', () => {
  it('skips the ended prefix, moves on as it grows, and starts over on a rebuilt list', () => {
    const p = new SettledPrefix();
    const list = [r('a', 'terminated'), r('b', 'terminated'), r('c', 'active'), r('d', 'terminated')];
    let looked = 0;
    const settled = (x: ExecutorReport) => (looked++, x.status === 'terminated');
    expect(p.length(list, settled)).toBe(2);
    expect(looked).toBe(3);
    // Nothing changed: only the first live one is looked at again.
    looked = 0;
    expect(p.length(list, settled)).toBe(2);
    expect(looked).toBe(1);
    // c ends (its slot holds a fresh report): the prefix runs on over d.
    list[2] = r('c', 'terminated');
    expect(p.length(list, settled)).toBe(4);
    // A list rebuilt after a restart, shorter or different: scanned from the start.
    expect(p.length([r('x', 'active')], settled)).toBe(0);
    expect(p.length([r('a', 'terminated'), r('y', 'active'), r('z', 'active')], settled)).toBe(1);
    expect(p.length([r('q', 'active'), r('y', 'active'), r('z', 'active')], settled)).toBe(0);
  });

  it('lets a directional controller ignore a long history of ended executors', () => {
    const closes = [...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 100 : 101)), 90];
    const config = bollingerV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT', bb_length: 20, max_executors_per_side: 1 });
    const h = new ControllerHarness(bollingerV1.create(config), new FakeMarketView().addCandles('sim', 'BTC-USDT', '3m', candlesFromCloses(closes, '3m')));
    // 10,000 ended executors ahead of one still open on the buy side: the side stays full.
    h.executors.push(...Array.from({ length: 10_000 }, (_, i) => ({ ...r(`old-${i}`, 'terminated'), side: 'buy', createdAt: 0 }) as ExecutorReport));
    h.executors.push({ ...r('open', 'active'), side: 'buy', createdAt: 0 } as ExecutorReport);
    for (let i = 0; i < closes.length; i++) expect(h.step((i + 1) * 180_000)).toEqual([]);
    h.end('open', 'TIME_LIMIT', 21 * 180_000);
    expect(h.step(21 * 180_000 + 1)).toHaveLength(1);
  });
});
