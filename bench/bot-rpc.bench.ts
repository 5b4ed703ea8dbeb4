/**
 * RPC round trips between the server and a bot over the embedded broker, with real per-bot logins and
 * the broker's topic rules, against bare mqtt.js request/reply on the same broker in the same run.
 *
 *   DATABASE_URL=... npx tsx bench/bot-rpc.bench.ts      # BENCH_CALLS (default 2000), BENCH_WARMUP (default 200)
 *
 * - server → bot: the server's RpcBus asks our BotAgent for `status` and waits for the correlated reply
 *   (what every start, stop, config and status route does).
 * - bot → server: the bot's RpcBus asks the server for `get_order_book` through the BotGateway's
 *   envelope handling (the command itself is replaced by an echo here, so only the wire is measured;
 *   the order path's own cost is bench:orders').
 * - baseline: a plain mqtt.js client publishes a request with a reply topic, a second one answers it;
 *   nothing else.
 *
 * Calls are sequential (one in flight), so the figures are latencies, not throughput. CPU per call is
 * this process's (the broker and both ends run in it), a `warning:` line names a series during which
 * other processes used more than a quarter of a core. Before the broker
 * and our links set TCP noDelay, every round trip took about 90 ms here (Nagle against delayed ACKs).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { BotAgent, type StrategyHost } from '../src/bot/agent.js';
import { EmbeddedBroker } from '../src/core/bots/broker.js';
import { RpcBus } from '../src/core/bots/bus.js';
import { mqttLink } from '../src/core/bots/link.js';
import { PgBotCredentials } from '../src/core/bots/pg-credentials.js';
import { botClientId } from '../src/core/bots/topics.js';
import { systemClock } from '../src/core/clock.js';
import { openDatabase } from '../src/core/db/client.js';
import { createLogger } from '../src/core/logger.js';
import { Vault } from '../src/core/secrets/vault.js';
import { privateDatabase } from '../test/helpers/config.js';
import { fmt, intEnv, machineCpu, printTable, ratio, runMain, summarize } from './lib/harness.js';

const CALLS = intEnv('BENCH_CALLS', 2000);
const WARMUP = intEnv('BENCH_WARMUP', 200);
const BOT = 'rpc-bench';

const idleHost: StrategyHost = {
  start: async () => 'nothing',
  stop: async () => 'nothing',
  running: () => true,
  status: () => ({ controllers: ['c1'], active_executors: 3, realized_pnl_quote: '12.5' }),
  config: () => ({}),
  setConfig: async () => ({}),
  history: () => [],
  performance: () => ({}),
};

async function timed(n: number, call: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Latencies of CALLS sequential calls after WARMUP, this process's CPU per call (both ends of the call
 * and the broker run here), and the cores the rest of the machine used meanwhile.
 */
async function measure(call: () => Promise<unknown>) {
  await timed(WARMUP, call);
  const m0 = machineCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const s = summarize(await timed(CALLS, call));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const usedUs = c.user + c.system;
  const other = Math.max(0, (machineCpu().busy - m0.busy - usedUs / 1000) / wallMs);
  return { ...s, cpuUsPerCall: usedUs / CALLS, other };
}

await runMain(async (cleanups) => {
  if (!process.env.DATABASE_URL) throw new Error('set DATABASE_URL (bot logins are kept in Postgres)');
  const db = await privateDatabase(process.env.DATABASE_URL);
  cleanups.push(db.drop);
  const database = await openDatabase({ url: db.url });
  cleanups.push(() => database.close());
  const credentials = new PgBotCredentials(database.db, new Vault(randomBytes(32)));
  const broker = new EmbeddedBroker({ port: 0, credentials, logger: createLogger('silent') });
  await broker.start();
  cleanups.push(() => broker.stop());
  const login = await credentials.issue(BOT);
  const s = broker.serverLogin();
  const connect = (o: mqtt.IClientOptions) => mqtt.connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 4, ...o });
  const clients: MqttClient[] = [];
  cleanups.push(async () => void (await Promise.all(clients.map((c) => c.endAsync(true)))));
  const serverClient = await connect({ username: s.username, password: s.password });
  const botClient = await connect({ clientId: botClientId(BOT), username: login.username, password: login.password });
  clients.push(serverClient, botClient);

  // Server side: one bus for the server's requests and for serving bots' requests.
  const server = new RpcBus(mqttLink(serverClient), { clock: systemClock, nodeId: 'server', replies: 'hbot/+/reply/+' });
  await server.start();
  await server.serve('hbot/+/rpc/+', async (req) => ({ status: 200, msg: '', result: { echo: req.data } }));
  cleanups.push(async () => server.stop());
  // Bot side: our agent, and its own bus for asking the server.
  const botLink = mqttLink(botClient);
  const botBus = new RpcBus(botLink, { clock: systemClock, nodeId: BOT, replies: `hbot/${BOT}/inbox/+` });
  const agent = new BotAgent({ botId: BOT, link: botLink, bus: botBus, clock: systemClock, host: idleHost, heartbeatMs: 60_000, performanceMs: 60_000 });
  await agent.start();
  cleanups.push(() => agent.shutdown());

  const toBot = await measure(() => server.request(`hbot/${BOT}/status`, {}, { replyTo: RpcBus.replyTopic(`hbot/${BOT}/reply`), timeoutMs: 5000, who: `bot ${BOT}` }));
  const toServer = await measure(() =>
    botBus.request(`hbot/${BOT}/rpc/get_order_book`, { connector_name: 'sim', trading_pair: 'BTC-USDT', depth: 20 }, { replyTo: RpcBus.replyTopic(`hbot/${BOT}/inbox`), timeoutMs: 5000, who: 'the server' }),
  );

  // Baseline: bare request/reply between two plain clients on the same broker (the server login can use any topic).
  // With noDelay, as our links set it: the baseline is the wire at its best, not Nagle's 40 ms waits.
  const asker = await connect({ username: s.username, password: s.password });
  const answerer = await connect({ username: s.username, password: s.password });
  for (const c of [asker, answerer]) (c.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  clients.push(asker, answerer);
  const waiting = new Map<string, () => void>();
  await answerer.subscribeAsync('bare/req', { qos: 1 });
  answerer.on('message', (_t, p) => {
    const m = JSON.parse(p.toString()) as { reply_to: string };
    answerer.publish(m.reply_to, JSON.stringify({ status: 200, data: { controllers: ['c1'], active_executors: 3 } }), { qos: 1 });
  });
  await asker.subscribeAsync('bare/reply/+', { qos: 1 });
  asker.on('message', (t) => waiting.get(t)?.());
  const bare = await measure(
    () =>
      new Promise<void>((resolve) => {
        const replyTo = `bare/reply/${randomUUID()}`;
        waiting.set(replyTo, () => {
          waiting.delete(replyTo);
          resolve();
        });
        asker.publish('bare/req', JSON.stringify({ reply_to: replyTo, data: {} }), { qos: 1 });
      }),
  );

  const row = (name: string, r: typeof bare) => [name, fmt(r.p50, 3), fmt(r.p99, 3), fmt(ratio(r.p50, bare.p50)), fmt(ratio(r.p99, bare.p99)), fmt(r.cpuUsPerCall, 0), fmt(ratio(r.cpuUsPerCall, bare.cpuUsPerCall)), fmt(r.other)];
  printTable(
    ['round trip (ms)', 'p50', 'p99', 'p50 vs bare', 'p99 vs bare', 'cpu µs/call', 'cpu vs bare', 'other cores'],
    [row('server → bot status (RpcBus + BotAgent)', toBot), row('bot → server request (RpcBus, echo handler)', toServer), row('bare mqtt.js request/reply', bare)],
  );
  // The CPU per call is this process's (broker, server and bot sides all run here); it does not count waiting for a core.
  for (const [name, r] of [['server → bot', toBot], ['bot → server', toServer], ['bare', bare]] as const) {
    if (r.other > 0.25) console.log(`warning: ${name}: other processes used ${fmt(r.other)} cores during the calls; latencies are disturbed, CPU per call holds better`);
  }
});
