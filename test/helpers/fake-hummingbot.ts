import mqtt, { type MqttClient } from 'mqtt';
import type { BotLogin } from '../../src/core/bots/credentials.js';
import { HUMMINGBOT_ANSWERS, HUMMINGBOT_SESSION, type WireMessage } from '../fixtures/hummingbot-wire.js';

/**
 * A stand-in for a real Hummingbot bot on the wire: it connects as Hummingbot does (client id
 * `hbot.<id>`, its own login), replays the recorded session's reports, and answers RPCs on
 * `hbot/<id>/<cmd>` the way the recorded bot did (commlib reply envelope, status 400 for the calls that
 * fail headless, no reply at all to a config with params as a dict or to a request without reply_to).
 * It never sends `offline`.
 */
export class FakeHummingbot {
  readonly requests: Array<{ cmd: string; data: Record<string, unknown> }> = [];
  #client: MqttClient | null = null;

  constructor(
    private readonly url: string,
    private readonly botId: string,
    private readonly login: BotLogin,
    /** Answers to use instead of the recorded ones, by command. */
    private readonly answers: typeof HUMMINGBOT_ANSWERS = {},
  ) {}

  async connect(): Promise<void> {
    const client = await mqtt.connectAsync(this.url, {
      clientId: `hbot.${this.botId}`,
      username: this.login.username,
      password: this.login.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    this.#client = client;
    const prefix = `hbot/${this.botId}/`;
    client.on('message', (topic, payload) => {
      const cmd = topic.slice(prefix.length);
      const answer = this.answers[cmd] ?? HUMMINGBOT_ANSWERS[cmd];
      if (!topic.startsWith(prefix) || !answer) return;
      let msg: { header?: { reply_to?: string }; data?: Record<string, unknown> };
      try {
        msg = JSON.parse(payload.toString());
      } catch {
        return;
      }
      const data = msg.data ?? {};
      this.requests.push({ cmd, data });
      const reply = answer(data);
      const replyTo = msg.header?.reply_to;
      if (!reply || !replyTo) return;
      const envelope = { header: { reply_to: '', timestamp: Date.now(), content_type: 'json', encoding: 'utf8', agent: 'commlib' }, data: reply };
      client.publish(replyTo, JSON.stringify(envelope), { qos: 1 });
    });
    await client.subscribeAsync(Object.keys(HUMMINGBOT_ANSWERS).map((cmd) => `${prefix}${cmd}`), { qos: 1 });
  }

  /** Publishes recorded messages in order (the session by default), QoS 0 as Hummingbot does. */
  async replay(messages: readonly WireMessage[] = HUMMINGBOT_SESSION): Promise<void> {
    const client = this.#need();
    for (const m of messages) await client.publishAsync(`hbot/${this.botId}/${m.topic}`, JSON.stringify(m.payload), { qos: 0 });
  }

  /** One heartbeat now, in integer microseconds. */
  async heartbeat(nowMs = Date.now()): Promise<void> {
    await this.#need().publishAsync(`hbot/${this.botId}/hb`, JSON.stringify({ ts: Math.round((nowMs + 0.5) * 1000) }), { qos: 0 });
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true);
    this.#client = null;
  }

  #need(): MqttClient {
    if (!this.#client) throw new Error('connect() first');
    return this.#client;
  }
}
