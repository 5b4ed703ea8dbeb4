/** Rejects a window length that is not a positive integer, so a bad config fails at construction, not as NaN later. */
export function checkPeriod(name: string, period: number): void {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`${name} must be a positive integer (got ${period})`);
}

/**
 * How many slides a windowed running total may take before it is summed again from its window.
 * Adding the new value and subtracting the old one leaves a rounding error each slide; over a year of
 * minute candles that error walks, so it is reset from the exact figures. At least one full window, so
 * the extra work stays under one addition per update.
 */
export const exactEvery = (period: number): number => Math.max(period, 4096);
