import { afterEach, describe, expect, it } from 'vitest';
import { RpcBus } from '../../../src/core/bots/bus.js';
import type { MqttLink } from '../../../src/core/bots/link.js';
import { systemClock } from '../../../src/core/clock.js';
import { createLogger } from '../../../src/core/logger.js';

/**
 * A request while the broker is away: mqtt.js holds a QoS 1 publish until the broker is back, maybe
 * for good. The request still fails at its timeout with TIMEOUT, and nothing is left unhandled (an
 * unhandled rejection ends a bot process); a publish that fails is UPSTREAM_UNAVAILABLE.
 */
function link(publish: MqttLink['publish']): MqttLink {
  return { publish, subscribe: async () => undefined, unsubscribe: async () => undefined, onMessage: () => () => undefined };
}

describe('RpcBus with the broker away', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown) => unhandled.push(r);
  process.on('unhandledRejection', onUnhandled);
  afterEach(() => {
    expect(unhandled).toEqual([]);
  });

  it('answers TIMEOUT at the timeout while the publish still waits for the broker, with nothing unhandled', async () => {
    const bus = new RpcBus(link(() => new Promise<void>(() => undefined)), { clock: systemClock, nodeId: 'bot', replies: 'hbot/b1/inbox/+', logger: createLogger('silent') });
    await bus.start();
    const started = Date.now();
    await expect(bus.request('hbot/b1/rpc/get_order_book', {}, { replyTo: RpcBus.replyTopic('hbot/b1/inbox'), timeoutMs: 200, who: 'the server' })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'No reply from the server to get_order_book within 0.2 s.',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    // Time for an unhandled rejection to be reported, were there one.
    await new Promise((r) => setTimeout(r, 50));
    bus.stop();
  });

  it('answers UPSTREAM_UNAVAILABLE when the publish fails, and its timer does not fire later', async () => {
    const bus = new RpcBus(link(async () => Promise.reject(new Error('client disconnecting'))), { clock: systemClock, nodeId: 'bot', replies: 'hbot/b1/inbox/+', logger: createLogger('silent') });
    await bus.start();
    await expect(bus.request('hbot/b1/rpc/place_order', {}, { replyTo: RpcBus.replyTopic('hbot/b1/inbox'), timeoutMs: 100, who: 'the server' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/client disconnecting/) });
    await new Promise((r) => setTimeout(r, 200));
    bus.stop();
  });
});
