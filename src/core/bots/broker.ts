import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../secrets/redact.js';
import type { BotCredentials, BotLogin, BrokerAccess } from './credentials.js';
import type { MqttLink } from './link.js';
import { botClientId, botMayPublish, botMaySubscribe } from './topics.js';

/** The server's own broker user; no bot username (`bot-<id>`) can take it. */
export const SERVER_USERNAME = 'tradedesk';

// MQTT 3.1.1 CONNACK return codes.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

type Identity = { kind: 'server' } | { kind: 'bot'; botId: string };

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests); `port` says which once started. */
  port: number;
  host?: string;
  credentials: Pick<BotCredentials, 'verify'>;
  logger: Logger;
}

/**
 * The MQTT broker the server embeds when MQTT_URL is unset (aedes on 127.0.0.1). No anonymous access:
 * a CONNECT carries either the server's own login (a random password made at each start and held only
 * in memory) or a bot's (checked against the bot credentials, with client id `hbot.<id>`). A bot may
 * publish and subscribe only under `hbot/<id>/` (topics.ts); the server may do everything.
 *
 * Persistence is aedes' in-memory store: sessions, QoS 1 messages queued for offline clients and
 * retained messages live as long as the broker and none survives its restart. Bots reconnect with
 * clean sessions and resubscribe; a report that must not be lost across a broker restart has to be
 * resent by its sender until the server acknowledges it, not left to the broker.
 */
export class EmbeddedBroker implements Lifecycle, BrokerAccess {
  readonly #identities = new WeakMap<Client, Identity>();
  readonly #connected = new Map<string, Client>();
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #port = 0;
  #serverPassword = '';

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  async start(): Promise<void> {
    this.#serverPassword = randomBytes(24).toString('base64url');
    registerSecret(this.#serverPassword);
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => void this.#authenticate(client, username, password).then((err) => done(err, err === null)),
      authorizePublish: (client, packet, done) => {
        // aedes asks without a client only for the will of a client it no longer knows (left over in a
        // shared store by another broker): nobody can say whose it is, so it is not published.
        const who = client ? this.#identities.get(client) : undefined;
        if (who?.kind === 'server' && !packet.topic.startsWith('$SYS/')) return done(null);
        if (who?.kind === 'bot' && botMayPublish(who.botId, packet.topic)) return done(null);
        // MQTT 3.1.1 has no refusal for a PUBLISH: aedes drops the message and closes the connection.
        // A will is checked here too, when it is about to be published.
        this.opts.logger.warn('mqtt publish refused', { client: client?.id, topic: packet.topic });
        done(new Error(`publishing to ${packet.topic} is not allowed`));
      },
      authorizeSubscribe: (client, sub, done) => {
        const who = this.#identities.get(client);
        if (who?.kind === 'server' || (who?.kind === 'bot' && botMaySubscribe(who.botId, sub.topic))) return done(null, sub);
        this.opts.logger.warn('mqtt subscription refused', { client: client.id, topic: sub.topic });
        // A null subscription is a refusal in the SUBACK (0x80); the connection stays up.
        done(null, null);
      },
    });
    aedes.on('clientReady', (client) => this.#connected.set(client.id, client));
    aedes.on('clientDisconnect', (client) => {
      if (this.#connected.get(client.id) === client) this.#connected.delete(client.id);
    });
    // Without noDelay, Nagle holds each small MQTT packet for the peer's delayed ACK: about 40 ms per hop.
    const server = createServer({ noDelay: true }, aedes.handle);
    this.#aedes = aedes;
    this.#server = server;
    const host = this.opts.host ?? '127.0.0.1';
    server.listen(this.opts.port, host);
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
    } catch (err) {
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw new AppError('PRECONDITION_FAILED', inUse ? `The MQTT port ${host}:${this.opts.port} is in use.` : `The embedded MQTT broker could not listen on ${host}:${this.opts.port}.`, {
        hint: 'Set MQTT_PORT to a free port, or MQTT_URL to use an external Mosquitto instead of the embedded broker.',
        cause: err,
      });
    }
    this.#port = (server.address() as { port: number }).port;
    this.opts.logger.info('mqtt broker listening', { host, port: this.#port });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = undefined;
    this.#aedes = undefined;
    // The listener stops taking connections first; it reports closed only once aedes has closed the
    // connections it still holds, so both are awaited together.
    const closed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await closed;
  }

  get port(): number {
    return this.#port;
  }

  /** `mqtt://host:port`: where the server and the bots it starts connect. */
  get url(): string {
    return `mqtt://${this.opts.host ?? '127.0.0.1'}:${this.#port}`;
  }

  /**
   * The server's own link to this broker, in process: it subscribes to the broker's message router and
   * publishes into it directly, with no connection of its own. A report then costs no packet written to
   * a socket, parsed back and acknowledged (a thousand bots reporting every second made that most of the
   * server's CPU with this broker). Nothing is lost that a connection would have kept: broker and server
   * live and die together. Valid once started.
   */
  localLink(): MqttLink {
    const aedes = this.#aedes;
    if (!aedes) throw new Error('the broker is not started');
    const handlers = new Set<(topic: string, payload: Buffer) => void>();
    const deliver = (packet: { topic: string; payload: string | Buffer }, done: () => void) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      for (const h of handlers) h(packet.topic, payload);
      done();
    };
    const filters = new Set<string>();
    return {
      publish: (topic, payload, qos) =>
        new Promise<void>((resolve, reject) =>
          aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
        ),
      subscribe: (filter) => {
        if (filters.has(filter)) return Promise.resolve();
        filters.add(filter);
        return new Promise<void>((resolve) => aedes.subscribe(filter, deliver, () => resolve()));
      },
      unsubscribe: (filter) => {
        if (!filters.delete(filter)) return Promise.resolve();
        return new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, () => resolve()));
      },
      onMessage: (handler) => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
    };
  }

  /** The server's own login for this run of the broker. */
  serverLogin(): BotLogin {
    if (!this.#serverPassword) throw new Error('the broker is not started');
    return { username: SERVER_USERNAME, password: this.#serverPassword };
  }

  /** Nothing to provision: every CONNECT is checked against the credentials store. */
  async grant(): Promise<void> {}

  /** Drops a revoked bot's live connection; its reconnect is then refused by the store. */
  async revoke(botId: string): Promise<void> {
    const client = this.#connected.get(botClientId(botId));
    if (client) await new Promise<void>((resolve) => client.close(() => resolve()));
  }

  async #authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    const refused = await this.#check(client, username, password);
    if (refused) this.opts.logger.warn('mqtt login refused', { client: client.id, username: username ?? null, reason: refused.message });
    return refused;
  }

  async #check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    if (!username || !password) return refusal(NOT_AUTHORIZED, 'anonymous access is not allowed');
    const pw = password.toString('utf8');
    if (username === SERVER_USERNAME) {
      if (!sameSecret(pw, this.#serverPassword)) return refusal(BAD_USERNAME_OR_PASSWORD, 'bad username or password');
      // The server must not take over a bot's session by its client id.
      if (client.id.startsWith('hbot.')) return refusal(IDENTIFIER_REJECTED, 'client ids hbot.* belong to bots');
      this.#identities.set(client, { kind: 'server' });
      return null;
    }
    let botId: string | null;
    try {
      botId = await this.opts.credentials.verify(username, pw);
    } catch (err) {
      this.opts.logger.error('mqtt login could not be checked', { err });
      return refusal(SERVER_UNAVAILABLE, 'credentials unavailable');
    }
    if (!botId) return refusal(BAD_USERNAME_OR_PASSWORD, 'bad username or password');
    if (client.id !== botClientId(botId)) return refusal(IDENTIFIER_REJECTED, `bot ${botId} must connect with client id ${botClientId(botId)}`);
    this.#identities.set(client, { kind: 'bot', botId });
    return null;
  }
}

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
