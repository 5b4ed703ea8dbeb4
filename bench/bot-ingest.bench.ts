/**
 * Bots' reports into the server: BENCH_BOTS simulated bots (1,000), each with its own MQTT connection,
 * publishing at 1 Hz a heartbeat and a performance report (and every BENCH_LOG_EVERY-th second a log
 * line) at the QoS our bot agent publishes each at (REPORT_QOS in topics.ts: heartbeats and
 * performance at QoS 0, as a Hummingbot bot sends them too; logs at QoS 1), received by the server's
 * real ingest (src/core/bots/ingest.ts: ServerLink, the report schemas, the deployed-bot cache, the
 * batched writes to Postgres), against a bare mqtt.js subscriber that receives and JSON-parses the
 * same messages, in the same run. Both subscribe each report at REPORT_QOS, so the broker delivers the
 * same messages with the same acknowledgements to both.
 *
 *   DATABASE_URL=... npx tsx bench/bot-ingest.bench.ts      # npm run bench:bot-ingest
 *
 * Two brokers, one after the other (BENCH_BROKERS):
 * - `embedded`: the aedes broker the server runs in its own process when MQTT_URL is unset, with a
 *   login per bot (scrypt-checked once) and the topic rules. The broker is in the measured process, as
 *   in the server, so its work is in both the baseline's figures and the ingest's. The ingest takes
 *   the messages through the broker's in-process link, as the server does; the bare subscriber
 *   connects over TCP (an mqtt.js client is what it stands for).
 * - `mosquitto`: the external broker at MQTT_URL (default the services' mqtt://127.0.0.1:1884). With a
 *   user in MQTT_URL, the bots are provisioned through the dynamic-security plugin as the server does;
 *   without one (the services' broker accepts anonymous local clients) they connect without a login.
 *   Mosquitto's own CPU is read from /proc and shown apart.
 *
 * The bots run in a forked child process, so their CPU is not the measured process's. For each broker,
 * the bots connect once and stay connected; the bare subscriber and the ingest take turns (never both
 * at once), BENCH_ROUNDS rounds of one window each, each window after BENCH_WARMUP seconds of the same
 * traffic. Each is reported at its median round: one Postgres checkpoint or autovacuum in a window
 * moved a single window's figure by a quarter.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import mqtt, { type MqttClient } from 'mqtt';
import { BotStore } from '../src/core/bots/bot-store.js';
import { EmbeddedBroker } from '../src/core/bots/broker.js';
import { brokerCredentials, type BotLogin } from '../src/core/bots/credentials.js';
import { BotIngest, REPORT_TOPICS } from '../src/core/bots/ingest.js';
import { mqttLink, type MqttLink } from '../src/core/bots/link.js';
import { MosquittoDynsec } from '../src/core/bots/mosquitto-dynsec.js';
import { PgBotCredentials } from '../src/core/bots/pg-credentials.js';
import { ServerLink } from '../src/core/bots/server-link.js';
import { botClientId, REPORT_QOS } from '../src/core/bots/topics.js';
import { systemClock } from '../src/core/clock.js';
import { openDatabase, type Database } from '../src/core/db/client.js';
import { createLogger } from '../src/core/logger.js';
import { Vault } from '../src/core/secrets/vault.js';
import { privateDatabase } from '../test/helpers/config.js';
import { goal, goalJson, printGoals, type Goal } from './lib/goals.js';
import { ClientProcess, cpuMeter, fmt, intEnv, log, printTable, ratio, round, runMain, serveClient, sleep, type ClientReply } from './lib/harness.js';
import { pgBackendCpu } from './lib/pg-backend-cpu.js';
import { listenerPid, processMeter } from './lib/proc-cpu.js';

const SETTINGS = {
  bots: Math.round(intEnv('BENCH_BOTS', 1000)),
  duration: intEnv('BENCH_DURATION', 15),
  /** Windows per subscriber and broker, alternating bare and ingest; the median is reported. */
  rounds: Math.max(1, Math.round(intEnv('BENCH_ROUNDS', 3))),
  warmup: intEnv('BENCH_WARMUP', 5),
  /** Each bot sends a log line every this many seconds (staggered over the bots). */
  logEvery: Math.round(intEnv('BENCH_LOG_EVERY', 20)),
  brokers: (process.env.BENCH_BROKERS ?? 'embedded,mosquitto').split(',').map((s) => s.trim()) as Array<'embedded' | 'mosquitto'>,
  mosquittoUrl: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1884',
};
/** Seconds the bots go on publishing after the window, so the window never sees them stop. */
const TAIL = 2;
/** Goal of issue 11: the server's CPU for 1,000 bots reporting at 1 Hz. */
const GOAL_CORE_PCT = 10;
const KINDS = ['hb', 'performance', 'log'] as const;
type Kind = (typeof KINDS)[number];

// ---------------------------------------------------------------------------------------------------
// The bots: a forked child process with one MQTT connection per bot

type PubRequest = { id: number } & ({ op: 'connect'; url: string; bots: Array<{ id: string; login?: BotLogin }> } | { op: 'run'; seconds: number; logEvery: number } | { op: 'disconnect' });

interface ConnectReply extends ClientReply {
  connected: number;
  connectMs: number;
}
interface RunReply extends ClientReply {
  acked: Record<Kind, number>;
  failed: number;
  closed: number;
}

/** A controller's report as our bot host publishes it (src/bot/host.ts): figures as decimal strings. */
const performanceReport = (n: number) => ({
  'pmm-1': {
    performance: {
      realized_pnl_quote: (n * 0.0125).toFixed(4),
      unrealized_pnl_quote: ((n % 7) * 0.31 - 1).toFixed(4),
      global_pnl_quote: (n * 0.0125 + (n % 7) * 0.31 - 1).toFixed(4),
      global_pnl_pct: '0.0421',
      volume_traded: (n * 25.5).toFixed(2),
      positions_summary: [],
      close_type_counts: { TAKE_PROFIT: n % 5, STOP_LOSS: n % 3 },
    },
    custom_info: { active_executors: 2 },
  },
});

function publisherMain(): void {
  let bots: Array<{ id: string; client: MqttClient; link: MqttLink }> = [];
  let closed = 0;
  serveClient<PubRequest>(async (msg) => {
    if (msg.op === 'connect') {
      const t0 = performance.now();
      // 50 at a time: a reconnect storm is bench:broker's subject, not this one's.
      for (let i = 0; i < msg.bots.length; i += 50) {
        const batch = await Promise.all(
          msg.bots.slice(i, i + 50).map(async (b) => {
            const client = await mqtt.connectAsync(msg.url, { clientId: botClientId(b.id), ...b.login, reconnectPeriod: 0, connectTimeout: 120_000 });
            client.on('error', () => undefined);
            client.on('close', () => closed++);
            // mqttLink sets noDelay, as the bot process's own link does.
            return { id: b.id, client, link: mqttLink(client) };
          }),
        );
        bots.push(...batch);
      }
      return { connected: bots.length, connectMs: performance.now() - t0 };
    }
    if (msg.op === 'run') {
      const closedBefore = closed;
      const acked: Record<Kind, number> = { hb: 0, performance: 0, log: 0 };
      let failed = 0;
      const pending = new Set<Promise<void>>();
      const send = (b: (typeof bots)[number], kind: Kind, payload: unknown) => {
        const p: Promise<void> = b.link.publish(`hbot/${b.id}/${kind}`, JSON.stringify(payload), REPORT_QOS[kind]).then(
          () => void acked[kind]++,
          () => void failed++,
        );
        pending.add(p);
        void p.finally(() => pending.delete(p));
      };
      const timers: NodeJS.Timeout[] = [];
      bots.forEach((b, i) => {
        let n = 0;
        const tick = () => {
          n++;
          send(b, 'hb', { ts: Date.now() * 1000 });
          send(b, 'performance', performanceReport(n));
          if ((n + i) % msg.logEvery === 0) send(b, 'log', { timestamp: Date.now() / 1000, msg: `executor ${n} refreshed: 2 orders placed`, level_no: 20, level_name: 'INFO', logger_name: 'tradedesk.strategy' });
        };
        // Spread over the second, so the traffic is even rather than a burst each second.
        timers.push(
          setTimeout(() => {
            tick();
            timers.push(setInterval(tick, 1000));
          }, (i / bots.length) * 1000),
        );
      });
      await sleep(msg.seconds * 1000);
      for (const t of timers) clearTimeout(t);
      await Promise.race([Promise.all([...pending]), sleep(30_000)]);
      return { acked, failed, closed: closed - closedBefore };
    }
    await Promise.all(bots.map((b) => b.client.endAsync(true)));
    bots = [];
    return {};
  });
}

// ---------------------------------------------------------------------------------------------------
// The measured process: a broker (embedded) and the subscriber under test

interface Broker {
  name: 'embedded' | 'mosquitto';
  url: string;
  serverLogin: BotLogin;
  /** The embedded broker's in-process link, which the server uses instead of a connection (the bare subscriber connects). */
  localLink?: () => MqttLink;
  /** The external broker's pid, for its CPU; undefined for the embedded broker (it is this process). */
  pid?: number;
  close(): Promise<void>;
}

interface Phase {
  broker: string;
  subscriber: 'bare' | 'ingest';
  windowS: number;
  /** Messages the subscriber received in the window. */
  msgs: number;
  msgsPerS: number;
  serverCorePct: number;
  serverUsPerMsg: number;
  dbUsPerMsg: number;
  brokerUsPerMsg: number;
  cores: { server: number; publisher: number; db: number; broker: number; other: number; steal: number };
  acked: Record<Kind, number>;
  failed: number;
  /** Every message received, and for the ingest each kind counted where it put it. */
  check: Record<string, { sent: number; seen: number }>;
  lost: number;
  warnings: string[];
}

/** A silent logger that keeps the ingest's warnings, each with the message of the error it carries. */
const countingLogger = () => {
  const warned: string[] = [];
  const silent = createLogger('silent');
  const warn = (msg: string, fields: Record<string, unknown> = {}) => {
    // drizzle wraps a driver error as "Failed query: <sql> params: ..." with the driver's error as its cause.
    const err = fields.err as { message?: string; cause?: { message?: string } } | undefined;
    warned.push(err ? `${msg}: ${err.cause?.message ?? err.message?.split('\n')[0] ?? String(err)}` : msg);
  };
  return { warned, logger: { ...silent, warn, child: () => silent } };
};

/** The distinct warnings with their counts, most frequent first. */
function tally(lines: string[]): string {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([l, n]) => `${n}× ${l}`).join('; ');
}

async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(50);
  }
  return cond();
}

async function count(database: Database, query: ReturnType<typeof sql>): Promise<number> {
  const r = (await database.db.execute(query)) as unknown as { rows: Array<{ n: number }> };
  return Number(r.rows[0]!.n);
}

async function phase(kind: 'bare' | 'ingest', b: Broker, pub: ClientProcess, ctx: { database: Database; dbName: string; store: BotStore; ids: string[] }): Promise<Phase> {
  log(`${b.name}/${kind}: subscribing\n`);
  let received = 0;
  let beats = 0;
  let stop: () => Promise<void>;
  let ingest: BotIngest | undefined;
  const { warned, logger } = countingLogger();
  const startedAt = new Date();
  const before = { perf: await count(ctx.database, sql`select count(*)::int as n from bot_performance`), logs: await count(ctx.database, sql`select count(*)::int as n from bot_logs`) };
  if (kind === 'bare') {
    const client = await mqtt.connectAsync(b.url, { ...b.serverLogin, clientId: `tradedesk-bench-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 });
    (client.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('message', (_topic, payload) => {
      JSON.parse(payload.toString('utf8'));
      received++;
    });
    for (const t of REPORT_TOPICS) await client.subscribeAsync(`hbot/+/${t}`, { qos: REPORT_QOS[t] });
    stop = () => client.endAsync();
  } else {
    // As src/app/services.ts wires it: the server's link, the ingest with its defaults, `deployed` from the
    // store. No live-view feed: with no one watching the stream, the server's feed is skipped as well.
    const link = new ServerLink({ url: () => b.url, serverLogin: () => b.serverLogin, localLink: b.localLink }, logger);
    await link.start();
    link.onMessage(() => void received++);
    const ing = new BotIngest({
      link,
      store: ctx.store,
      clock: systemClock,
      logger,
      deployed: async (id) => {
        const row = await ctx.store.get(id);
        return !!row && !row.archivedAt;
      },
      allDeployed: () => ctx.store.deployedIds(),
    });
    ing.onPresence((p) => void (p.kind === 'heartbeat' && beats++));
    await ing.start();
    ingest = ing;
    stop = async () => {
      await ing.stop();
      await link.stop();
    };
  }

  const run = pub.call<{ op: 'run'; seconds: number; logEvery: number }, RunReply>({ op: 'run', seconds: SETTINGS.warmup + SETTINGS.duration + TAIL, logEvery: SETTINGS.logEvery });
  await sleep(SETTINGS.warmup * 1000);
  log(`${b.name}/${kind}: measuring ${SETTINGS.duration} s\n`);
  const dbMeter = await pgBackendCpu(process.env.DATABASE_URL!, ctx.dbName);
  const brokerMeter = processMeter(b.pid);
  const r0 = received;
  const meter = cpuMeter();
  await sleep(SETTINGS.duration * 1000);
  meter.end();
  const msgs = received - r0;
  const brokerUs = b.pid === undefined ? 0 : brokerMeter.stop();
  const dbCpu = await dbMeter.stop();
  const reply = await run;
  const cpu = meter.stop(reply.cpuCores);
  const sentTotal = KINDS.reduce((s, k) => s + reply.acked[k], 0);

  // Everything acknowledged by the broker must reach the subscriber, and for the ingest, the database.
  await waitUntil(() => received >= sentTotal, 15_000);
  // Received first: a message the broker acknowledged but never delivered is the broker's loss, not the subscriber's.
  const check: Phase['check'] = { 'messages received': { sent: sentTotal, seen: received } };
  if (ingest) {
    await waitUntil(() => beats >= reply.acked.hb, 10_000);
    await ingest.flush();
    await sleep(300);
    await ingest.flush();
    const perf = (await count(ctx.database, sql`select count(*)::int as n from bot_performance`)) - before.perf;
    const logs = (await count(ctx.database, sql`select count(*)::int as n from bot_logs`)) - before.logs;
    const beaten = await count(ctx.database, sql`select count(*)::int as n from bots where last_heartbeat_at >= ${startedAt.toISOString()}::timestamptz`);
    check.heartbeats = { sent: reply.acked.hb, seen: beats };
    check['performance rows'] = { sent: reply.acked.performance, seen: perf };
    check['log rows'] = { sent: reply.acked.log, seen: logs };
    check['bots with a new heartbeat stored'] = { sent: ctx.ids.length, seen: beaten };
  }
  await stop();

  const wallS = cpu.wallMs / 1000;
  const dbCores = dbCpu.available ? dbCpu.us / 1000 / cpu.wallMs : 0;
  const brokerCores = Number.isFinite(brokerUs) ? brokerUs / 1000 / cpu.wallMs : 0;
  const other = Math.max(0, cpu.machine - cpu.server - cpu.client - dbCores - brokerCores);
  const name = `${b.name}/${kind}`;
  const warnings: string[] = [];
  if (other > 0.25) warnings.push(`${name}: other processes used ${fmt(other)} cores during the window; its figures are disturbed (µs/msg holds best)`);
  if (cpu.steal > 0.1) warnings.push(`${name}: the hypervisor took ${fmt(cpu.steal)} cores (steal) during the window`);
  if (cpu.client > 0.85) warnings.push(`${name}: the bots' process used ${fmt(cpu.client)} cores; it may not have kept the 1 Hz pace`);
  if (reply.failed) warnings.push(`${name}: ${reply.failed} publishes were not acknowledged`);
  if (reply.closed) warnings.push(`${name}: ${reply.closed} bot connections closed during the run`);
  if (warned.length) warnings.push(`${name}: the ingest warned ${warned.length} times: ${tally(warned)}`);
  const lost = Object.values(check).reduce((s, c) => s + Math.max(0, c.sent - c.seen), 0);
  return {
    broker: b.name,
    subscriber: kind,
    windowS: wallS,
    msgs,
    msgsPerS: msgs / wallS,
    serverCorePct: cpu.server * 100,
    serverUsPerMsg: cpu.serverUs / msgs,
    dbUsPerMsg: dbCpu.available ? dbCpu.us / msgs : NaN,
    brokerUsPerMsg: b.pid === undefined ? NaN : brokerUs / msgs,
    cores: { server: cpu.server, publisher: cpu.client, db: dbCores, broker: brokerCores, other, steal: cpu.steal },
    acked: reply.acked,
    failed: reply.failed,
    check,
    lost,
    warnings,
  };
}

async function embeddedBroker(ctx: { database: Database; ids: string[] }, cleanups: Array<() => Promise<void>>): Promise<{ broker: Broker; logins: Map<string, BotLogin> }> {
  const credentials = new PgBotCredentials(ctx.database.db, new Vault(randomBytes(32)));
  const broker = new EmbeddedBroker({ port: 0, credentials, logger: createLogger('silent') });
  await broker.start();
  let stopped = false;
  const close = async () => {
    if (stopped) return;
    stopped = true;
    await broker.stop();
  };
  cleanups.push(close);
  log(`embedded: issuing ${ctx.ids.length} bot logins (one scrypt each)\n`);
  const logins = new Map<string, BotLogin>();
  for (let i = 0; i < ctx.ids.length; i += 8) await Promise.all(ctx.ids.slice(i, i + 8).map(async (id) => logins.set(id, await credentials.issue(id))));
  return { broker: { name: 'embedded', url: broker.url, serverLogin: broker.serverLogin(), localLink: () => broker.localLink(), close }, logins };
}

async function mosquittoBroker(ctx: { database: Database; ids: string[] }, cleanups: Array<() => Promise<void>>): Promise<{ broker: Broker; logins: Map<string, BotLogin | undefined> }> {
  const u = new URL(SETTINGS.mosquittoUrl);
  const port = Number(u.port || 1883);
  const pid = ['127.0.0.1', 'localhost'].includes(u.hostname) ? listenerPid(port) : undefined;
  const logins = new Map<string, BotLogin | undefined>();
  const admin = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  const url = u.toString().replace(/\/$/, '');
  let close = async () => {};
  if (admin.username) {
    // A broker with the dynamic-security plugin: provisioned as the server provisions it.
    const dynsec = new MosquittoDynsec({ url: SETTINGS.mosquittoUrl, logger: createLogger('silent') });
    await dynsec.start();
    const credentials = brokerCredentials(new PgBotCredentials(ctx.database.db, new Vault(randomBytes(32))), dynsec);
    log(`mosquitto: provisioning ${ctx.ids.length} bots through dynamic security\n`);
    for (let i = 0; i < ctx.ids.length; i += 8) await Promise.all(ctx.ids.slice(i, i + 8).map(async (id) => logins.set(id, await credentials.issue(id))));
    close = async () => {
      for (const id of ctx.ids) await credentials.revoke(id).catch(() => undefined);
      await dynsec.stop();
    };
    cleanups.push(close);
  } else {
    log(`mosquitto: ${url} has no user in MQTT_URL; bots connect without a login (the services' broker accepts local anonymous clients)\n`);
    for (const id of ctx.ids) logins.set(id, undefined);
  }
  if (pid === undefined) log(`mosquitto: no local process listens on port ${port}; its CPU is not measured\n`);
  return { broker: { name: 'mosquitto', url, serverLogin: admin.username ? admin : { username: 'tradedesk', password: '' }, pid, close }, logins };
}

function report(phases: Phase[]): Record<string, unknown> {
  console.log(
    `\nbot-ingest: ${SETTINGS.bots} bots, each a heartbeat and a performance report per second (QoS ${REPORT_QOS.hb}), a log line every ${SETTINGS.logEvery} s (QoS ${REPORT_QOS.log}); ${SETTINGS.rounds} rounds of ${SETTINGS.duration} s windows after ${SETTINGS.warmup} s of warm-up, the median round shown\n`,
  );
  printTable(
    ['broker/subscriber', 'msgs/s', 'srv % core', 'srv µs/msg', 'db µs/msg', 'broker µs/msg', 'cpu srv/pub/db/brk/other/steal'],
    phases.map((p) => [
      `${p.broker}/${p.subscriber}`,
      fmt(p.msgsPerS, 0),
      fmt(p.serverCorePct, 1),
      fmt(p.serverUsPerMsg, 1),
      Number.isFinite(p.dbUsPerMsg) ? fmt(p.dbUsPerMsg, 1) : '-',
      Number.isFinite(p.brokerUsPerMsg) ? fmt(p.brokerUsPerMsg, 1) : p.broker === 'embedded' ? 'in srv' : '-',
      [p.cores.server, p.cores.publisher, p.cores.db, p.cores.broker, p.cores.other, p.cores.steal].map((v) => fmt(v)).join('/'),
    ]),
  );
  console.log('\nratios ingest / bare subscriber, same broker, same run');
  const ratios: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const name of new Set(phases.map((p) => p.broker))) {
    const bare = phases.find((p) => p.broker === name && p.subscriber === 'bare');
    const ing = phases.find((p) => p.broker === name && p.subscriber === 'ingest');
    if (!bare || !ing) continue;
    const r = { cpu_per_msg: ratio(ing.serverUsPerMsg, bare.serverUsPerMsg), core_pct: ratio(ing.serverCorePct, bare.serverCorePct) };
    ratios[name] = { cpu_per_msg: round(r.cpu_per_msg), core_pct: round(r.core_pct) };
    rows.push([name, fmt(r.cpu_per_msg), fmt(r.core_pct), `${fmt(ing.serverUsPerMsg, 1)} / ${fmt(bare.serverUsPerMsg, 1)} µs`]);
  }
  printTable(['broker', 'srv µs/msg', 'srv % core', 'from'], rows);
  return ratios;
}

function checks(phases: Phase[]): boolean {
  console.log('\nchecks: every message the broker acknowledged reached the subscriber (and, for the ingest, Postgres)');
  const rows: string[][] = [];
  for (const p of phases) for (const [what, c] of Object.entries(p.check)) rows.push([`${p.broker}/${p.subscriber}`, what, String(c.sent), String(c.seen), c.seen >= c.sent ? 'OK' : 'PROBLEM']);
  printTable(['run', 'what', 'sent', 'seen', ''], rows);
  return phases.every((p) => p.lost === 0);
}

async function main(cleanups: Array<() => Promise<void>>): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('bot-ingest: skipped (DATABASE_URL is not set; the ingest writes to Postgres)');
    return;
  }
  const made = await privateDatabase(process.env.DATABASE_URL, 'td_bench');
  cleanups.push(made.drop);
  const dbName = new URL(made.url).pathname.slice(1);
  const database = await openDatabase({ url: made.url });
  cleanups.push(() => database.close());
  const store = new BotStore(database.db, systemClock);
  const ids = Array.from({ length: SETTINGS.bots }, (_, i) => `ingest-${i}`);
  log(`creating ${ids.length} bots\n`);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) =>
        store.create({ id, name: id, accountName: 'master_account', owner: { name: 'admin', role: 'admin', accounts: null, stored: false }, channel: 'rest', runtime: 'child', image: null, strategy: { script: { name: 'bench', config: {} } }, desiredState: 'running' }),
      ),
    );
  }
  const pub = new ClientProcess(import.meta.url);
  cleanups.push(() => pub.close());
  const phases: Phase[] = [];
  const allPhases: Phase[] = [];
  for (const name of SETTINGS.brokers) {
    if (name !== 'embedded' && name !== 'mosquitto') throw new Error(`BENCH_BROKERS: unknown broker "${name}" (embedded, mosquitto)`);
    const { broker, logins } = name === 'embedded' ? await embeddedBroker({ database, ids }, cleanups) : await mosquittoBroker({ database, ids }, cleanups);
    log(`${name}: connecting ${ids.length} bots\n`);
    const c = await pub.call<{ op: 'connect'; url: string; bots: Array<{ id: string; login?: BotLogin }> }, ConnectReply>({ op: 'connect', url: broker.url, bots: ids.map((id) => ({ id, login: logins.get(id) })) });
    log(`${name}: ${c.connected} bots connected in ${fmt(c.connectMs / 1000, 1)} s\n`);
    // Rounds alternate the two subscribers, so a slow spell of the machine falls on both; each is
    // reported at its median round.
    const rounds: Record<'bare' | 'ingest', Phase[]> = { bare: [], ingest: [] };
    for (let r = 0; r < SETTINGS.rounds; r++) {
      for (const kind of ['bare', 'ingest'] as const) rounds[kind].push(await phase(kind, broker, pub, { database, dbName, store, ids }));
    }
    for (const kind of ['bare', 'ingest'] as const) {
      const all = rounds[kind];
      allPhases.push(...all);
      const sorted = [...all].sort((a, b) => a.serverCorePct - b.serverCorePct);
      phases.push(sorted[Math.floor((sorted.length - 1) / 2)]!);
      log(`${name}/${kind}: server % of a core by round: ${all.map((p) => fmt(p.serverCorePct, 1)).join(', ')}\n`);
    }
    await pub.call({ op: 'disconnect' });
    await broker.close();
  }

  const ratios = report(phases);
  const ok = checks(allPhases);
  const goals: Goal[] = phases
    .filter((p) => p.subscriber === 'ingest')
    .map((p) => goal(`${p.broker}: server CPU, % of one core${p.broker === 'embedded' ? ' (broker included)' : ''}`, p.serverCorePct, '<=', GOAL_CORE_PCT, '', `${fmt(p.msgsPerS, 0)} msgs/s × ${fmt(p.serverUsPerMsg, 1)} µs`));
  console.log('\ngoals (issue 11)');
  printGoals('goal', goals);
  const warnings = allPhases.flatMap((p) => p.warnings);
  for (const w of warnings) console.log(`warning: ${w}`);
  console.log(
    `RESULT ${JSON.stringify({
      settings: SETTINGS,
      runs: Object.fromEntries(
        phases.map((p) => [
          `${p.broker}.${p.subscriber}`,
          {
            msgs_per_s: round(p.msgsPerS, 1),
            server_core_pct: round(p.serverCorePct, 2),
            server_us_per_msg: round(p.serverUsPerMsg, 2),
            db_us_per_msg: round(p.dbUsPerMsg, 2),
            broker_us_per_msg: round(p.brokerUsPerMsg, 2),
            cores: Object.fromEntries(Object.entries(p.cores).map(([k, v]) => [k, round(v)])),
            acked: p.acked,
            check: p.check,
            lost: p.lost,
          },
        ]),
      ),
      ratios,
      goals: goals.map(goalJson),
      ok,
      warnings,
    })}`,
  );
}

if (process.env.BENCH_ROLE === 'client') publisherMain();
else await runMain(main);
