import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { type TrialBatch, TrialQueue } from '../../src/core/backtesting/trial-queue.js';
import { privateDatabase } from '../helpers/config.js';

/** The optimization queue on a real pg-boss: what a worker's take, fail and hand-back do to a batch's hand-outs. */
const batch = (job: string): TrialBatch => ({
  job_id: job,
  code_version: '0.0.0',
  sim_seed: 'sim',
  spec: {} as TrialBatch['spec'],
  market: {} as TrialBatch['market'],
  warmup_bars: 0,
  trials: [{ trial: 0, config: {}, start: 0, end: 1 }],
});

describe('the optimization queue on pg-boss', () => {
  let db: { url: string; drop(): Promise<void> };
  let queue: TrialQueue;

  beforeAll(async () => {
    db = await privateDatabase(process.env.DATABASE_URL!, 'tdq');
    queue = new TrialQueue(db.url, createLogger('silent'), { batchTimeoutSeconds: 60 });
    await queue.connect();
  }, 60_000);
  afterAll(async () => {
    await queue?.stop();
    await db?.drop();
  });

  it('a batch handed back is taken again as if never taken: a worker that cannot run it uses up none of its retries', async () => {
    const [id] = await queue.send([batch('job_a')]);
    expect(await queue.take(1)).toMatchObject([{ id, retryCount: 0 }]);
    await queue.handBack(id!);
    expect((await queue.states([id!])).get(id!)?.state).toBe('created');
    const again = await queue.take(1);
    expect(again).toMatchObject([{ id, retryCount: 0 }]);
    // A real failure counts; a hand-back after it gives back only its own take.
    await queue.fail(id!, 'boom');
    expect(await queue.take(1)).toMatchObject([{ id, retryCount: 1 }]);
    await queue.handBack(id!);
    const held = await queue.take(1);
    expect(held).toMatchObject([{ id, retryCount: 1 }]);
    expect(await queue.stillHeld(held[0]!)).toBe(true);
    // Handed back many times, it is still there to take.
    for (let i = 0; i < 8; i++) {
      await queue.handBack(id!);
      expect(await queue.take(1)).toMatchObject([{ id, retryCount: 1 }]);
    }
    await queue.complete(id!);
  });
});
