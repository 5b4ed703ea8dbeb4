import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { ManualClock } from '../../src/core/clock.js';

/**
 * Portfolio history keeps the latest points when a range holds more than `limit`; previous_end_time
 * reads the page before, so a caller can walk back through the whole range without gap or overlap.
 */
const MINUTE = 60_000;
const H0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(drivers())('portfolio history paging on %s', (driver) => {
  let s: TestServer;
  const clock = new ManualClock(H0);

  beforeAll(async () => {
    s = await testServer(driver, {}, { clock });
    s.services.portfolio.stopSnapshots();
    const r = await s.call('POST', '/accounts', { account_name: 'walk', connectors: [{ connector_name: 'sim', paper_balances: { USDT: '1' } }] });
    expect(r.status, r.text).toBe(201);
    // One snapshot in each of seven 5-minute buckets, worth 1001..1007.
    for (let i = 0; i < 7; i++) {
      clock.set(H0 + i * 5 * MINUTE + MINUTE);
      const p = await s.call('PUT', '/accounts/walk/paper-balances', { connector_name: 'sim', balances: { USDT: String(1001 + i) } });
      expect(p.status, p.text).toBe(200);
      await s.services.portfolio.snapshot('USDT', clock.date());
    }
    clock.set(H0);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('pages back with previous_end_time until the range is exhausted', async () => {
    const start = H0;
    const values: number[] = [];
    let end: string | number = H0 + 35 * MINUTE;
    const pages: Array<{ truncated: boolean; previous_end_time: string | null }> = [];
    for (let guard = 0; guard < 5; guard++) {
      const r = await s.call('GET', `/portfolio/history?interval=5m&limit=3&account_names=walk&start_time=${start}&end_time=${encodeURIComponent(String(end))}`);
      expect(r.status, r.text).toBe(200);
      values.unshift(...r.body.points.map((p: { total_value: number }) => p.total_value));
      pages.push({ truncated: r.body.truncated, previous_end_time: r.body.previous_end_time });
      if (!r.body.previous_end_time) break;
      expect(r.body.previous_end_time).toBe(iso(r.body.points[0].timestamp - 1));
      end = r.body.previous_end_time;
    }
    expect(pages.map((p) => p.truncated)).toEqual([true, true, false]);
    expect(pages.at(-1)!.previous_end_time).toBeNull();
    expect(values).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007]);
  });
});
