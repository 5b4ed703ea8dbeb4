import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Vault } from '../secrets/vault.js';
import { EmbeddedBroker } from './broker.js';
import { brokerCredentials, type BotCredentials, type BotLogin } from './credentials.js';
import { EmqxAccess, type EmqxAccessOptions } from './emqx-access.js';
import { MosquittoDynsec } from './mosquitto-dynsec.js';
import type { MqttLink } from './link.js';
import { PgBotCredentials } from './pg-credentials.js';

/** The broker bots use, whichever it is: what the orchestrator and the runtimes need from it. */
export interface BotBroker extends Lifecycle {
  readonly kind: 'embedded' | 'mosquitto' | 'emqx';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Bot logins, kept in Postgres and mirrored into the broker. */
  readonly credentials: BotCredentials;
  /** Where the server and the bots connect, without credentials. Valid once started. */
  url(): string;
  /** The server's own login. Valid once started. */
  serverLogin(): BotLogin;
  /** The embedded broker only: the server's link in process, instead of a connection (see EmbeddedBroker.localLink). */
  localLink?(): MqttLink;
}

export interface BotBrokerOptions {
  /** MQTT_URL: an external broker; unset means the embedded broker. */
  mqttUrl?: string;
  /** MQTT_BROKER: what the broker at mqttUrl is (default mosquitto). */
  kind?: 'mosquitto' | 'emqx';
  /** With kind emqx: its REST API and key. */
  emqx?: Omit<EmqxAccessOptions, 'server' | 'logger'>;
  /** MQTT_PORT: the embedded broker's port on 127.0.0.1 (0 picks a free one). */
  mqttPort: number;
  db: Db;
  vault: Vault;
  logger: Logger;
}

/** The runtime profiles' broker: embedded aedes without MQTT_URL, the Mosquitto or EMQX at MQTT_URL with it. */
export function createBotBroker(opts: BotBrokerOptions): BotBroker {
  const store = new PgBotCredentials(opts.db, opts.vault);
  const logger = opts.logger.child({ module: 'mqtt' });
  if (!opts.mqttUrl) {
    const broker = new EmbeddedBroker({ port: opts.mqttPort, credentials: store, logger });
    return {
      kind: 'embedded',
      credentials: brokerCredentials(store, broker),
      start: () => broker.start(),
      stop: () => broker.stop(),
      url: () => broker.url,
      serverLogin: () => broker.serverLogin(),
      localLink: () => broker.localLink(),
    };
  }
  const u = new URL(opts.mqttUrl);
  const login = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  const bare = u.toString().replace(/\/$/, '');
  if (opts.kind === 'emqx') {
    if (!opts.emqx) throw new AppError('PRECONDITION_FAILED', 'MQTT_BROKER=emqx needs EMQX_API_URL and an API key.');
    if (!login.username || !login.password) {
      throw new AppError('PRECONDITION_FAILED', `MQTT_URL (${bare}) names no user: with EMQX the server makes MQTT_URL's user and password its own superuser login.`, { hint: 'Put a user and password in MQTT_URL (mqtt://tradedesk:password@emqx:1883).' });
    }
    const emqx = new EmqxAccess({ ...opts.emqx, server: login, logger });
    return { kind: 'emqx', credentials: brokerCredentials(store, emqx), start: () => emqx.start(), stop: async () => {}, url: () => bare, serverLogin: () => login };
  }
  const dynsec = new MosquittoDynsec({ url: opts.mqttUrl, logger });
  return {
    kind: 'mosquitto',
    credentials: brokerCredentials(store, dynsec),
    start: () => dynsec.start(),
    stop: () => dynsec.stop(),
    url: () => bare,
    serverLogin: () => login,
  };
}
