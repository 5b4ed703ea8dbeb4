import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { BotLogin } from './credentials.js';
import { mqttLink, type MqttLink } from './link.js';

/**
 * The server's own connection to the bots' broker (with the embedded broker, its in-process link
 * instead), as a module: it connects at start (the broker is
 * started before it), and until then the bus, the gateway and the ingest can already be wired to it.
 * It reconnects by itself when the broker drops it (Mosquitto does once, when the server's role is set
 * at start) and its subscriptions are renewed on reconnect.
 */
export class ServerLink implements MqttLink, Lifecycle {
  #client: MqttClient | null = null;
  #link: MqttLink | null = null;
  #stopLocal: (() => void) | null = null;
  readonly #handlers = new Set<(topic: string, payload: Buffer) => void>();
  readonly #reconnected = new Set<() => void>();

  constructor(
    private readonly where: { url(): string; serverLogin(): BotLogin; localLink?(): MqttLink },
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  async start(): Promise<void> {
    const local = this.where.localLink?.();
    if (local) {
      // The embedded broker: in process, never disconnected, so never a reconnect to report.
      const off = local.onMessage((topic, payload) => {
        for (const h of this.#handlers) h(topic, payload);
      });
      this.#stopLocal = off;
      this.#link = local;
      return;
    }
    const login = this.where.serverLogin();
    const client = await mqtt.connectAsync(this.where.url(), {
      username: login.username,
      password: login.password,
      clientId: `tradedesk-server-${randomBytes(6).toString('hex')}`,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
    });
    client.on('error', (err) => this.logger.warn('the server\'s broker connection failed', { err }));
    client.on('message', (topic, payload) => {
      for (const h of this.#handlers) h(topic, payload);
    });
    // The first connect has happened by now: each later one is a reconnect (a broker restart).
    client.on('connect', () => {
      for (const h of this.#reconnected) h();
    });
    this.#client = client;
    this.#link = mqttLink(client);
  }

  async stop(): Promise<void> {
    this.#stopLocal?.();
    this.#stopLocal = null;
    const c = this.#client;
    this.#client = null;
    this.#link = null;
    await c?.endAsync().catch(() => undefined);
  }

  publish(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    return this.#connected().publish(topic, payload, qos);
  }

  subscribe(filter: string, qos: 0 | 1): Promise<void> {
    return this.#connected().subscribe(filter, qos);
  }

  unsubscribe(filter: string): Promise<void> {
    return this.#connected().unsubscribe(filter);
  }

  /** Called after each reconnect: what bots sent while the server was away reached no one. */
  onReconnect(handler: () => void): () => void {
    this.#reconnected.add(handler);
    return () => this.#reconnected.delete(handler);
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  #connected(): MqttLink {
    if (!this.#link) throw new AppError('UPSTREAM_UNAVAILABLE', 'The server is not connected to the bots\' broker.', { hint: 'The server is starting or stopping; retry in a moment.' });
    return this.#link;
  }
}
