import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import { FinalReports } from '../../../src/core/strategy/final-reports.js';
import type { ExecutorReport } from '../../../src/core/strategy/types.js';

const d = (s: string) => new Decimal(s);

function report(i: number): ExecutorReport {
  const odd = i % 3 === 0;
  return {
    id: `e${i}`,
    type: 'position',
    connector: 'sim',
    tradingPair: 'BTC-USDT',
    side: i % 2 ? 'buy' : 'sell',
    status: 'terminated',
    closeType: 'TIME_LIMIT',
    createdAt: i * 60_000,
    closedAt: i * 60_000 + 2_700_000,
    positionAmount: d('0'),
    entryPrice: i % 5 === 0 ? null : d(`${115_000 + i}.${i % 100}`),
    volume: d(`1005.93081641${i % 10}`),
    fees: d(odd ? '0.20118616328279999' : '0.2'),
    realizedPnl: d(odd ? '7.1862924139999476' : `-${i}.5`),
    unrealizedPnl: d(i % 7 === 0 ? '-0' : '0'),
    netPnl: d(odd ? '6.98510625071714761' : `-${i}.7`),
    netPnlPct: d('0'),
    custom: {},
  };
}

describe('FinalReports', () => {
  it('gives back every figure as the report had it, past its first growth, with netPnlPct and custom worked out when read', () => {
    const store = new FinalReports();
    let built = 0;
    const kept = Array.from({ length: 300 }, (_, i) => {
      const r = report(i);
      const risk = d(i % 4 === 0 ? '0' : '500');
      const k = store.keep({ report: r, risk, custom: () => ({ built: ++built, i }) });
      return { r, risk, k };
    });
    expect(built).toBe(0);
    for (const { r, risk, k } of kept) {
      const pct = risk.gt(0) ? r.netPnl.div(risk) : d('0');
      expect(JSON.parse(JSON.stringify(k))).toEqual(JSON.parse(JSON.stringify({ ...r, netPnlPct: pct, custom: k.custom })));
      for (const f of ['positionAmount', 'volume', 'fees', 'realizedPnl', 'unrealizedPnl', 'netPnl'] as const) {
        expect(k[f].toString()).toBe(r[f].toString());
        expect(k[f].eq(r[f])).toBe(true);
      }
      expect(k.entryPrice?.toString() ?? null).toBe(r.entryPrice?.toString() ?? null);
      expect(k.netPnlPct.toString()).toBe(pct.toString());
    }
    expect(built).toBe(300);
    expect(kept[7]!.k.custom).toBe(kept[7]!.k.custom);
    expect(built).toBe(300);
  });

  it('a spread of a kept report carries its plain fields only, as a saved state reads them', () => {
    const store = new FinalReports();
    const k = store.keep({ report: report(1), risk: d('1'), custom: () => ({}) });
    expect(Object.keys({ ...k }).sort()).toEqual(['closeType', 'closedAt', 'connector', 'createdAt', 'id', 'side', 'status', 'tradingPair', 'type']);
  });
});
