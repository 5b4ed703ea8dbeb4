import { commandRunner } from '../../src/app/services.js';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { BotStore } from '../../src/core/bots/bot-store.js';
import { EmbeddedBroker } from '../../src/core/bots/broker.js';
import { RpcBus } from '../../src/core/bots/bus.js';
import { BotGateway } from '../../src/core/bots/gateway.js';
import { mqttLink } from '../../src/core/bots/link.js';
import { PgBotCredentials } from '../../src/core/bots/pg-credentials.js';
import { PgBotDirectory } from '../../src/core/bots/pg-directory.js';
import type { ResponseData } from '../../src/core/bots/protocol/envelope.js';
import { BOT_PASSWORD_ENV, BOT_SPEC_ENV, type BotLaunchSpec } from '../../src/core/bots/runtime.js';
import { botUsername } from '../../src/core/bots/topics.js';
import { createRegistry } from '../../src/core/command/index.js';
import type { BotStrategy } from '../../src/core/db/schema/index.js';
import { createLogger } from '../../src/core/logger.js';
import { Vault } from '../../src/core/secrets/vault.js';
import { allCommands } from '../../src/tools/index.js';
import { freePort } from './free-port.js';
import { testServer, type Driver, type TestServer } from './test-env.js';

/**
 * The server's side of bots, for tests that run a bot against it: a test server (real services on its
 * own Postgres database), the embedded broker with real bot logins, the gateway serving the bots' RPCs
 * through execute() with the bots store as its directory, and a server MQTT client that records every
 * report a bot publishes and asks bots RPCs as the orchestrator does.
 */
export interface BotWorld {
  server: TestServer;
  broker: EmbeddedBroker;
  store: BotStore;
  credentials: PgBotCredentials;
  /** The server's bus (replies under `hbot/+/reply/+`). */
  bus: RpcBus;
  /** Every message a bot published outside RPC traffic, in arrival order. */
  seen: Array<{ topic: string; payload: any }>;
  /** The payloads a bot published on `hbot/<bot>/<suffix>`. */
  of(bot: string, suffix: string): any[];
  /** Creates an account with paper balances on sim (USDT 10000, BTC 1). */
  account(name: string): Promise<void>;
  /** Stores the bot (desired running, owned by the admin) and issues its login: the env a bot process is started with. */
  deploy(id: string, account: string, strategy: BotStrategy, extra?: Partial<BotLaunchSpec>): Promise<{ spec: BotLaunchSpec; password: string; env: Record<string, string> }>;
  /** Asks a bot one of its RPCs (start, stop, status, config, history) as the server. */
  ask(bot: string, cmd: string, data?: Record<string, unknown>, timeoutMs?: number): Promise<ResponseData>;
  /** Stops the broker and starts a new one on the same port (nothing survives, as after a crash); the server's client reconnects by itself. */
  restartBroker(): Promise<void>;
  stop(): Promise<void>;
}

export async function botWorld(driver: Driver): Promise<BotWorld> {
  const server = await testServer(driver);
  const logger = createLogger('silent');
  const { services } = server;
  const registry = createRegistry(allCommands);
  const run = commandRunner(registry, () => services, logger);
  const credentials = new PgBotCredentials(services.db, new Vault(randomBytes(32)));
  const store = new BotStore(services.db, services.clock);
  // A fixed port, so that a restarted broker is where the clients look for it.
  const port = await freePort();
  let broker = new EmbeddedBroker({ port, host: '127.0.0.1', credentials, logger });
  await broker.start();
  let login = broker.serverLogin();
  // The password changes with each broker start: a reconnect asks for the current one.
  const client: MqttClient = await mqtt.connectAsync(broker.url, { reconnectPeriod: 250, username: login.username, password: login.password });
  client.on('error', () => undefined);
  client.on('reconnect', () => {
    client.options.password = login.password;
  });
  const seen: BotWorld['seen'] = [];
  client.on('message', (topic, p) => {
    if (topic.includes('/reply/') || topic.includes('/rpc/') || topic.includes('/inbox/')) return;
    let payload: unknown;
    try {
      payload = JSON.parse(p.toString());
    } catch {
      payload = p.toString();
    }
    seen.push({ topic, payload });
  });
  await client.subscribeAsync('hbot/#', { qos: 1 });
  const bus = new RpcBus(mqttLink(client), { clock: services.clock, nodeId: 'server', replies: 'hbot/+/reply/+', logger });
  await bus.start();
  await new BotGateway(bus, { run, directory: new PgBotDirectory(store, services.users), logger }).start();

  return {
    server,
    get broker() {
      return broker;
    },
    store,
    credentials,
    bus,
    seen,
    of: (bot, suffix) => seen.filter((m) => m.topic === `hbot/${bot}/${suffix}`).map((m) => m.payload),
    async account(name) {
      const r = await server.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'sim', paper_balances: { USDT: '10000', BTC: '1' } }] });
      if (r.status !== 201) throw new Error(`account ${name}: ${r.status} ${r.text}`);
    },
    async deploy(id, account, strategy, extra = {}) {
      await store.create({
        id,
        name: id,
        accountName: account,
        owner: { name: 'admin', role: 'admin', accounts: null, stored: false },
        channel: 'rest',
        runtime: 'child',
        image: null,
        strategy,
        desiredState: 'running',
      });
      const issued = await credentials.issue(id);
      const spec: BotLaunchSpec = { bot_id: id, account, mqtt_url: broker.url, mqtt_username: botUsername(id), strategy, autostart: true, on_restart: 'resume', ...extra };
      return { spec, password: issued.password, env: { [BOT_SPEC_ENV]: JSON.stringify(spec), [BOT_PASSWORD_ENV]: issued.password, LOG_LEVEL: 'silent' } };
    },
    ask: (bot, cmd, data = {}, timeoutMs = 10_000) => bus.request(`hbot/${bot}/${cmd}`, data, { replyTo: RpcBus.replyTopic(`hbot/${bot}/reply`), timeoutMs, who: `bot ${bot}` }),
    async restartBroker() {
      await broker.stop();
      broker = new EmbeddedBroker({ port, host: '127.0.0.1', credentials, logger });
      await broker.start();
      login = broker.serverLogin();
    },
    async stop() {
      bus.stop();
      await client.endAsync().catch(() => undefined);
      await broker.stop();
      await server.stop();
    },
  };
}
