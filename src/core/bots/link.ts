import type { MqttClient } from 'mqtt';

/**
 * The little of an MQTT client that the bus needs, so the bus can be driven by mqtt.js on the server
 * and in the bot, and by a test double in unit tests.
 */
export interface MqttLink {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  subscribe(filter: string, qos: 0 | 1): Promise<void>;
  unsubscribe(filter: string): Promise<void>;
  /** Calls `handler` for every message received; returns the function that stops it. */
  onMessage(handler: (topic: string, payload: Buffer) => void): () => void;
}

/** An mqtt.js client as a link. A refused subscription (SUBACK 0x80: the broker's ACL) is an error, not a silent no-op. */
export function mqttLink(client: MqttClient): MqttLink {
  // Requests and replies are small packets: without noDelay, Nagle holds each one for the peer's delayed
  // ACK (about 40 ms per hop). The socket is new after every reconnect.
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  noDelay();
  client.on('connect', noDelay);
  coalesceReplies(client);
  client.on('connect', () => coalesceReplies(client));
  return {
    async publish(topic, payload, qos) {
      await client.publishAsync(topic, payload, { qos });
    },
    async subscribe(filter, qos) {
      const granted = await client.subscribeAsync(filter, { qos });
      const refused = granted.find((g) => g.qos === 128);
      if (refused) throw new Error(`The broker refused the subscription to ${refused.topic}.`);
    },
    async unsubscribe(filter) {
      await client.unsubscribeAsync(filter);
    },
    onMessage(handler) {
      const h = (topic: string, payload: Buffer) => handler(topic, payload);
      client.on('message', h);
      return () => client.off('message', h);
    },
  };
}

const COALESCING = Symbol('coalescing');

/**
 * What the client writes while it handles one read from the socket (a PUBACK for each QoS 1 message,
 * the replies it sends at once) leaves in one write instead of one system call each: the socket is
 * corked when data arrives and uncorked once the packets of that read are handled (mqtt.js handles one
 * packet per tick; setImmediate runs after all of them). A thousand bots reporting every second were
 * two thousand PUBACK writes a second, the larger part of the ingest's CPU.
 */
function coalesceReplies(client: MqttClient): void {
  const stream = client.stream as (NodeJS.ReadWriteStream & { cork?: () => void; uncork?: () => void; [COALESCING]?: boolean }) | undefined;
  if (!stream?.cork || !stream.uncork || stream[COALESCING]) return;
  stream[COALESCING] = true;
  let corked = false;
  stream.prependListener('data', () => {
    if (corked) return;
    corked = true;
    stream.cork!();
    setImmediate(() => {
      corked = false;
      stream.uncork!();
    });
  });
}

/** Whether an MQTT topic filter (`+` one level, `#` the rest) matches a topic. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
