import { describe, expect, it } from 'vitest';
import { percentOf } from '../../../src/bot/host.js';
import { PerformanceReport } from '../../../src/core/bots/protocol/reports.js';
import { Decimal } from '../../../src/core/decimal.js';

describe("a bot's PnL percentage", () => {
  it('is rounded to 8 places, so a repeating quotient still fits a report figure', () => {
    const pct = percentOf(new Decimal('-0.000264192'), new Decimal('49.83024'));
    expect(pct).toBe('-0.00053018');
    expect(PerformanceReport.safeParse({ global_pnl_pct: pct }).success).toBe(true);
    // The unrounded quotient is what was refused before.
    const raw = new Decimal('-0.000264192').div('49.83024').times(100).toString();
    expect(PerformanceReport.safeParse({ global_pnl_pct: raw }).success).toBe(false);
  });

  it('is 0 with no volume, and exact when the division is', () => {
    expect(percentOf(new Decimal('5'), new Decimal('0'))).toBe('0');
    expect(percentOf(new Decimal('1'), new Decimal('8'))).toBe('12.5');
  });
});
