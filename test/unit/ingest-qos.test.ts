import { describe, expect, it } from 'vitest';
import type { BotStore } from '../../src/core/bots/bot-store.js';
import { BotIngest } from '../../src/core/bots/ingest.js';
import type { MqttLink } from '../../src/core/bots/link.js';
import { ManualClock } from '../../src/core/clock.js';

describe('the ingest\'s subscriptions', () => {
  it('takes the repeated snapshots (heartbeats, performance) at QoS 0 and what is said once (status, logs, events) at QoS 1', async () => {
    const subscribed: Record<string, number> = {};
    const link: MqttLink = {
      publish: async () => undefined,
      subscribe: async (filter, qos) => void (subscribed[filter] = qos),
      unsubscribe: async () => undefined,
      onMessage: () => () => undefined,
    };
    const ingest = new BotIngest({ link, store: {} as BotStore, clock: new ManualClock(0), logger: { warn: () => undefined, debug: () => undefined }, deployed: async () => false });
    await ingest.start();
    await ingest.stop();
    expect(subscribed).toEqual({ 'hbot/+/hb': 0, 'hbot/+/performance': 0, 'hbot/+/status_updates': 1, 'hbot/+/log': 1, 'hbot/+/events': 1 });
  });
});

describe('the ingest\'s delivery', () => {
  it('never throws into the broker: a lookup that fails at once is a warning, and other bots\' reports are still taken', async () => {
    let deliver: (topic: string, payload: Buffer) => void = () => undefined;
    const link: MqttLink = { publish: async () => undefined, subscribe: async () => undefined, unsubscribe: async () => undefined, onMessage: (h) => ((deliver = h), () => undefined) };
    const beats: string[][] = [];
    const store = { heartbeats: async (b: Array<{ id: string }>) => (beats.push(b.map((x) => x.id)), []) } as unknown as BotStore;
    const warned: Array<Record<string, unknown>> = [];
    const ingest = new BotIngest({
      link,
      store,
      clock: new ManualClock(0),
      logger: { warn: (_msg: string, fields?: Record<string, unknown>) => void warned.push(fields ?? {}), debug: () => undefined },
      deployed: (id) => {
        if (id === 'broken') throw new Error('lookup exploded');
        return Promise.resolve(id === 'good');
      },
    });
    await ingest.start();
    const hb = Buffer.from(JSON.stringify({ ts: 1 }));
    expect(() => deliver('hbot/broken/hb', hb)).not.toThrow();
    deliver('hbot/good/hb', hb);
    deliver('hbot/stranger/hb', hb);
    await new Promise((r) => setImmediate(r));
    await ingest.stop();
    expect(beats.flat()).toEqual(['good']);
    expect(warned).toEqual([expect.objectContaining({ bot_id: 'broken', topic: 'hb' })]);
  });
});
