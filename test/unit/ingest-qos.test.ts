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
