import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { PortfolioService } from '../../src/core/portfolio/portfolio-service.js';

/**
 * The scheduled snapshot starts at once: a start that fails right after (a port in use) stops the
 * service while that snapshot still runs. Stopping waits for it, so it never runs into a closed pool.
 */
function service() {
  const lines: string[] = [];
  const logger = createLogger('info', {}, (l) => lines.push(l));
  const svc = new PortfolioService(null as never, null as never, null as never, null as never, logger, new ManualClock(0), { snapshotEveryMs: 60_000 });
  let calls = 0;
  let finish: (err?: Error) => void = () => undefined;
  svc.snapshot = () => {
    calls++;
    return new Promise<number>((resolve, reject) => {
      finish = (err) => (err ? reject(err) : resolve(1));
    });
  };
  return { svc, lines, calls: () => calls, finish: (err?: Error) => finish(err) };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('portfolio snapshot schedule', () => {
  it('stop waits for the snapshot in flight', async () => {
    const s = service();
    s.svc.start();
    expect(s.calls()).toBe(1);
    const stopped = s.svc.stop();
    expect(await settled(stopped)).toBe(false);
    s.finish();
    await stopped;
    expect(s.lines).toEqual([]);
  });

  it('a snapshot that fails is logged once, and stop still ends', async () => {
    const s = service();
    s.svc.start();
    const stopped = s.svc.stop();
    s.finish(new Error('boom'));
    await stopped;
    expect(s.lines.filter((l) => l.includes('portfolio snapshot failed'))).toHaveLength(1);
  });

  it('stop with nothing in flight ends at once', async () => {
    const s = service();
    s.svc.start();
    s.finish();
    await new Promise((r) => setImmediate(r));
    expect(await settled(s.svc.stop())).toBe(true);
  });
});
