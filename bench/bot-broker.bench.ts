/**
 * The embedded MQTT broker's cost for bots, against a bare aedes in the same run.
 *
 *   DATABASE_URL=... npx tsx bench/bot-broker.bench.ts      # BENCH_BOTS (default 300), BENCH_MESSAGES per bot (default 20)
 *
 * - Reconnect storm: every bot connects at once with its own login and client id hbot.<id>; first with
 *   a cold login cache (one scrypt per bot: a first deploy), then again with a warm one (the broker or
 *   the network came back), against a bare aedes that accepts any login.
 * - Ingest: every bot publishes BENCH_MESSAGES QoS 1 heartbeats under its prefix to one subscriber (the
 *   server identity), through the ACL hooks; the baseline is the same traffic through a bare aedes.
 *
 * Clients and broker share this process, so the wall times include the clients' work on both sides
 * alike: the ratios are what the authentication and the topic rules add.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../src/core/bots/broker.js';
import { PgBotCredentials } from '../src/core/bots/pg-credentials.js';
import { openDatabase } from '../src/core/db/client.js';
import { createLogger } from '../src/core/logger.js';
import { Vault } from '../src/core/secrets/vault.js';
import { privateDatabase } from '../test/helpers/config.js';
import { fmt, intEnv, printTable, ratio } from './lib/harness.js';

const BOTS = intEnv('BENCH_BOTS', 300);
const MESSAGES = intEnv('BENCH_MESSAGES', 20);

interface Target {
  url: string;
  server: { username: string; password: string };
  login(id: string): { username: string; password: string };
}

async function bareAedes(): Promise<{ url: string; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      await closed;
    },
  };
}

const connectAll = (t: Target, ids: string[]) =>
  Promise.all(ids.map((id) => mqtt.connectAsync(t.url, { clientId: `hbot.${id}`, ...t.login(id), reconnectPeriod: 0, connectTimeout: 120_000, protocolVersion: 4 })));

async function storm(t: Target, ids: string[]): Promise<{ ms: number; clients: MqttClient[] }> {
  const t0 = performance.now();
  const clients = await connectAll(t, ids);
  return { ms: performance.now() - t0, clients };
}

async function ingest(t: Target, ids: string[], clients: MqttClient[]): Promise<number> {
  const server = await mqtt.connectAsync(t.url, { clientId: `tradedesk-bench-${randomBytes(3).toString('hex')}`, ...t.server, reconnectPeriod: 0, protocolVersion: 4 });
  await server.subscribeAsync('hbot/+/hb', { qos: 1 });
  const expected = ids.length * MESSAGES;
  let got = 0;
  const done = new Promise<void>((r) => server.on('message', () => ++got === expected && r()));
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      for (let m = 0; m < MESSAGES; m++) await c.publishAsync(`hbot/${ids[i]}/hb`, JSON.stringify({ ts: m }), { qos: 1 });
    }),
  );
  await done;
  const ms = performance.now() - t0;
  await server.endAsync(true);
  return ms;
}

async function main() {
  if (!process.env.DATABASE_URL) {
    console.log('bot-broker: skipped (DATABASE_URL is not set; the bot logins live in Postgres)');
    return;
  }
  const db = await privateDatabase(process.env.DATABASE_URL, 'td_bench');
  const database = await openDatabase({ url: db.url });
  const store = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
  const broker = new EmbeddedBroker({ port: 0, credentials: store, logger: createLogger('error') });
  await broker.start();
  const bare = await bareAedes();
  try {
    const ids = Array.from({ length: BOTS }, (_, i) => `bench-${i}`);
    const logins = new Map<string, { username: string; password: string }>();
    for (const id of ids) logins.set(id, await store.issue(id));
    const ours: Target = { url: broker.url, server: broker.serverLogin(), login: (id) => logins.get(id)! };
    const plain: Target = { url: bare.url, server: { username: 'x', password: 'x' }, login: (id) => logins.get(id)! };
    const end = (cs: MqttClient[]) => Promise.all(cs.map((c) => c.endAsync(true)));

    // One round on the bare broker first warms the clients' code paths; the second is the baseline.
    const warmUp = await storm(plain, ids);
    await ingest(plain, ids, warmUp.clients);
    await end(warmUp.clients);
    const baseline = await storm(plain, ids);
    const baseIngest = await ingest(plain, ids, baseline.clients);
    await end(baseline.clients);
    // Nothing remembered yet, as on a first deploy of every bot.
    const cold = await storm(ours, ids);
    await end(cold.clients);
    const warm = await storm(ours, ids);
    const ourIngest = await ingest(ours, ids, warm.clients);
    await end(warm.clients);

    console.log(`\nbot-broker: ${BOTS} bots, ${MESSAGES} QoS 1 heartbeats each\n`);
    printTable(
      ['what', 'embedded broker (ms)', 'bare aedes (ms)', 'ratio'],
      [
        ['connect storm, cold logins (scrypt each)', fmt(cold.ms, 0), fmt(baseline.ms, 0), fmt(ratio(cold.ms, baseline.ms))],
        ['connect storm, warm logins', fmt(warm.ms, 0), fmt(baseline.ms, 0), fmt(ratio(warm.ms, baseline.ms))],
        [`ingest ${BOTS * MESSAGES} messages`, fmt(ourIngest, 0), fmt(baseIngest, 0), fmt(ratio(ourIngest, baseIngest))],
      ],
    );
    console.log(`\ningest: ${fmt((BOTS * MESSAGES) / (ourIngest / 1000), 0)} msg/s through the ACL hooks, ${fmt((BOTS * MESSAGES) / (baseIngest / 1000), 0)} msg/s bare`);
  } finally {
    await bare.close();
    await broker.stop();
    await database.close();
    await db.drop();
  }
}

await main();
