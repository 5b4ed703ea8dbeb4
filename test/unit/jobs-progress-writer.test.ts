import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressWriter, type ProgressValue } from '../../src/core/jobs/progress-writer.js';
import { systemClock as wallClock } from '../../src/core/clock.js';

/** A write that records what it wrote and how many writes overlapped. */
function recorder(delayMs = 0) {
  const written: ProgressValue[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = async (v: ProgressValue) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    written.push({ ...v });
    inFlight--;
  };
  return { write, written, maxInFlight: () => maxInFlight };
}

describe('ProgressWriter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first value at once and folds a burst into one trailing write of the last value', async () => {
    const r = recorder();
    const w = new ProgressWriter(r.write, wallClock, 250);
    for (let i = 1; i <= 1000; i++) w.report(i / 1000, `step ${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.written).toEqual([{ fraction: 0.001, message: 'step 1' }]);
    await vi.advanceTimersByTimeAsync(249);
    expect(r.written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.written).toEqual([{ fraction: 0.001, message: 'step 1' }, { fraction: 1, message: 'step 1000' }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.written).toHaveLength(2);
  });

  it('writes at most once per interval over a steady stream, and the last value written is the last reported', async () => {
    const r = recorder();
    const w = new ProgressWriter(r.write, wallClock, 250);
    for (let t = 0; t < 1000; t += 10) {
      w.report(t / 1000);
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(250);
    expect(r.written.length).toBeLessThanOrEqual(5);
    expect(r.written.length).toBeGreaterThanOrEqual(4);
    expect(r.written.at(-1)!.fraction).toBe(0.99);
  });

  it('never overlaps two writes, even when a write is slower than the interval', async () => {
    const r = recorder(100);
    const w = new ProgressWriter(r.write, wallClock, 0);
    for (let i = 0; i < 50; i++) {
      w.report(i / 50);
      await vi.advanceTimersByTimeAsync(7);
    }
    await vi.advanceTimersByTimeAsync(500);
    expect(r.maxInFlight()).toBe(1);
    expect(r.written.at(-1)!.fraction).toBe(49 / 50);
  });

  it('keeps fractions within 0..1 and ignores a non-finite one', async () => {
    const r = recorder();
    const w = new ProgressWriter(r.write, wallClock, 0);
    w.report(1.7);
    await vi.advanceTimersByTimeAsync(1);
    w.report(-3);
    await vi.advanceTimersByTimeAsync(1);
    w.report(0.5);
    await vi.advanceTimersByTimeAsync(1);
    w.report(Number.NaN, 'still going');
    await vi.advanceTimersByTimeAsync(1);
    expect(r.written.map((v) => v.fraction)).toEqual([1, 0, 0.5, 0.5]);
    expect(w.latest).toEqual({ fraction: 0.5, message: 'still going' });
  });

  it('close() drops a pending trailing write and waits for the one in flight; a failing write does not throw', async () => {
    const r = recorder(50);
    const w = new ProgressWriter(r.write, wallClock, 250);
    w.report(0.1);
    w.report(0.2);
    const closed = w.close();
    await vi.advanceTimersByTimeAsync(50);
    await closed;
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.written.map((v) => v.fraction)).toEqual([0.1]);
    expect(w.latest!.fraction).toBe(0.2);

    const failing = new ProgressWriter(async () => Promise.reject(new Error('database gone')), wallClock, 0);
    failing.report(0.3);
    await vi.advanceTimersByTimeAsync(1);
    await failing.close();
  });
});
