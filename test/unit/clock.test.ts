import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/core/clock.js';

describe('clocks', () => {
  it('a manual clock stands still until set or advanced, and its date is its now', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    clock.advance(1500);
    expect(clock.date()).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 0, 1, 500)));
    clock.set(Date.UTC(2025, 5, 1));
    expect(clock.date().toISOString()).toBe('2025-06-01T00:00:00.000Z');
  });

  it('a manual clock refuses a time that is not a finite number of milliseconds', () => {
    expect(() => new ManualClock(Number.NaN)).toThrow(RangeError);
    const clock = new ManualClock(0);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });

  it('the system clock reads the wall', () => {
    const before = Date.now();
    const now = systemClock.now();
    const date = systemClock.date().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(date).toBeGreaterThanOrEqual(now);
    expect(date - before).toBeLessThan(60_000);
  });
});
