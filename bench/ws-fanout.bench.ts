/**
 * WebSocket fan-out: N clients (500) subscribed to one order-book stream (sim BTC-USDT) through the
 * real server's WS /market-data/stream, compared with a bare `ws` WebSocketServer that broadcasts the
 * same messages (the same FeedMessage JSON built from MarketData.orderBook, at the same 1 s cadence).
 *
 *   npm run bench:fanout
 *   BENCH_CLIENTS=1000 BENCH_DURATION=30 npx tsx bench/ws-fanout.bench.ts
 *   BENCH_BARE_STRINGIFY=each npx tsx bench/ws-fanout.bench.ts   # the bare server serialises per client, as the real one does
 *
 * The clients run in a forked child process (one event loop, all on the same clock). For each message
 * the child notes when every client received it; the spread of one message is receive time minus the
 * first receipt of that message among all clients. The orderbook message's own `data.timestamp` is
 * the book's second, not a send time, so a send-time marker is taken on the server side instead: an
 * extra hub listener subscribed before any client (the hub calls listeners in subscription order, so
 * it runs just before the server's per-client sends), and for the bare server the moment before its
 * broadcast loop. Latency from emission compares wall clocks across the two processes (same machine).
 * The real server and the bare one never run at the same time. See bench/README.md.
 */
import { WebSocket, WebSocketServer } from 'ws';
import { AUTH, ClientProcess, cores, cpuCell, cpuMeter, cpuWarnings, fmt, intEnv, log, printTable, ratio, round, roundSummary, runMain, serveClient, sleep, startBenchServer, summarize, type ClientReply, type CpuSplit, type Summary } from './lib/harness.js';

const SETTINGS = {
  clients: Math.round(intEnv('BENCH_CLIENTS', 500)),
  duration: intEnv('BENCH_DURATION', 15),
  /** Seconds after the measured window during which late deliveries of the window's messages still count. */
  grace: intEnv('BENCH_GRACE', 2, 0),
  /** `once`: the bare server serialises each message once for all clients; `each`: once per client like the real server. */
  bareStringify: (process.env.BENCH_BARE_STRINGIFY === 'each' ? 'each' : 'once') as 'once' | 'each',
};

const FEED = { connector_name: 'sim', trading_pair: 'BTC-USDT', channel: 'orderbook' as const };
const SUBSCRIBE = JSON.stringify({ action: 'subscribe', ...FEED });
/** Same limit as src/rest/stream.ts: a client holding more than this unsent is skipped. */
const MAX_BUFFERED = 1 << 20;
const wallNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------------
// Client process: N WebSocket clients

type ClientMsg = { id: number } & ({ op: 'connect'; url: string; clients: number; auth: boolean } | { op: 'window'; endWall: number; untilWall: number } | { op: 'disconnect' });

interface ConnectReply extends ClientReply {
  connected: number;
  connectMs: number;
}

interface CollectReply extends ClientReply {
  /** Per message key (`<data.timestamp>#<occurrence>`): wall-clock receive times, one per client that got it. */
  receipts: Record<string, number[]>;
  /** CPU the client process used from the window's start to its end, in cores. */
  windowCpuCores: number;
  otherMessages: Record<string, number>;
  closed: number;
  errors: string[];
}

function clientMain(): void {
  let sockets: WebSocket[] = [];
  let receipts = new Map<string, number[]>();
  let other: Record<string, number> = {};
  let closed = 0;
  const errors: string[] = [];
  const tsRe = /"timestamp":(\d+)/;

  const open = (url: string, auth: boolean): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: auth ? { authorization: AUTH } : {}, perMessageDeflate: false });
      const seen = new Map<string, number>();
      let subscribed = false;
      const timer = setTimeout(() => reject(new Error('no "subscribed" within 20 s')), 20_000);
      ws.on('open', () => ws.send(SUBSCRIBE));
      ws.on('message', (data: Buffer) => {
        const at = wallNow();
        const text = data.toString('utf8');
        if (text.startsWith('{"type":"orderbook"')) {
          const ts = tsRe.exec(text)?.[1] ?? '?';
          const k = (seen.get(ts) ?? 0) + 1;
          seen.set(ts, k);
          const key = `${ts}#${k}`;
          let list = receipts.get(key);
          if (!list) receipts.set(key, (list = []));
          list.push(at);
          return;
        }
        const type = /"type":"([a-z_]+)"/.exec(text)?.[1] ?? 'unknown';
        if (type === 'subscribed' && !subscribed) {
          subscribed = true;
          clearTimeout(timer);
          resolve(ws);
          return;
        }
        other[type] = (other[type] ?? 0) + 1;
        if (type === 'error' && errors.length < 5) errors.push(text.slice(0, 200));
      });
      ws.on('close', () => {
        closed++;
        if (!subscribed) {
          clearTimeout(timer);
          reject(new Error('closed before "subscribed"'));
        }
      });
      ws.on('error', (err) => {
        if (errors.length < 5) errors.push(err.message);
        if (!subscribed) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });

  serveClient<ClientMsg>(async (msg) => {
    if (msg.op === 'connect') {
      receipts = new Map();
      other = {};
      closed = 0;
      errors.length = 0;
      const t0 = performance.now();
      // 50 handshakes at a time.
      for (let i = 0; i < msg.clients; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, msg.clients - i) }, () => open(msg.url, msg.auth)));
        sockets.push(...batch);
      }
      return { connected: sockets.length, connectMs: performance.now() - t0 };
    }
    if (msg.op === 'window') {
      // Sent at the start of the measured window: CPU from now to endWall, receipts until untilWall.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(Math.max(0, msg.endWall - wallNow()));
      const cpu = process.cpuUsage(cpu0);
      const windowCpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
      await sleep(Math.max(0, msg.untilWall - wallNow()));
      return { receipts: Object.fromEntries(receipts), windowCpuCores, otherMessages: other, closed, errors: [...errors] };
    }
    for (const ws of sockets) ws.terminate();
    sockets = [];
    return {};
  });
}

// ---------------------------------------------------------------------------------------------------
// Orchestration (this process hosts the servers)

interface Emission {
  key: string;
  at: number;
}

/** Keys the emitted messages the same way the clients do: `<data.timestamp>#<occurrence>`. */
function emissionLog(): { note(data: unknown): void; list: Emission[] } {
  const seen = new Map<string, number>();
  const list: Emission[] = [];
  return {
    list,
    note(data: unknown) {
      const at = wallNow();
      const ts = String((data as { timestamp?: number }).timestamp ?? '?');
      const k = (seen.get(ts) ?? 0) + 1;
      seen.set(ts, k);
      list.push({ key: `${ts}#${k}`, at });
    },
  };
}

interface Measured {
  name: 'real' | 'bare';
  clients: number;
  connectMs: number;
  broadcasts: number;
  delivered: number;
  expected: number;
  msgsPerS: number;
  /** Receive time minus the first receipt of the same message among all clients, ms. */
  spread: Summary;
  /** Receive time minus the server-side emission marker, ms (cross-process wall clocks). */
  fromEmission: Summary;
  /** Per message: first receipt − emission, and last receipt − emission (the full fan-out), ms. */
  firstFromEmission: Summary;
  lastFromEmission: Summary;
  cpu: CpuSplit;
  serverUsPerDelivered: number;
  otherMessages: Record<string, number>;
  closed: number;
  errors: string[];
}

async function measure(client: ClientProcess, name: Measured['name'], url: string, auth: boolean, emissions: Emission[]): Promise<Measured> {
  log(`  ${name}: connecting ${SETTINGS.clients} clients ... `);
  const conn = await client.call<ClientMsg, ConnectReply>({ id: 0, op: 'connect', url, clients: SETTINGS.clients, auth });
  log(`${conn.connected} subscribed in ${Math.round(conn.connectMs)} ms; settling 2 s, measuring ${SETTINGS.duration}s ... `);
  await sleep(2000);
  const startWall = wallNow();
  const endWall = startWall + SETTINGS.duration * 1000;
  const meter = cpuMeter();
  // The clients keep receiving during the grace period so that the window's last broadcast is complete;
  // the CPU figures (both processes) stop at the end of the window.
  const collecting = client.call<ClientMsg, CollectReply>({ id: 0, op: 'window', endWall, untilWall: endWall + SETTINGS.grace * 1000 });
  await sleep(Math.max(0, endWall - wallNow()));
  meter.end();
  const collected = await collecting;
  const cpu = meter.stop(collected.windowCpuCores);
  await client.call<ClientMsg, ClientReply>({ id: 0, op: 'disconnect' });

  const inWindow = emissions.filter((e) => e.at >= startWall && e.at < endWall);
  const spreads: number[] = [];
  const fromEmission: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  let delivered = 0;
  for (const e of inWindow) {
    const times = collected.receipts[e.key] ?? [];
    if (times.length === 0) continue;
    delivered += times.length;
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    for (const t of times) {
      spreads.push(t - lo);
      fromEmission.push(t - e.at);
    }
    first.push(lo - e.at);
    last.push(hi - e.at);
  }
  const windowS = (endWall - startWall) / 1000;
  log(`${Math.round(delivered / windowS)} msgs/s\n`);
  return {
    name,
    clients: conn.connected,
    connectMs: conn.connectMs,
    broadcasts: inWindow.length,
    delivered,
    expected: inWindow.length * conn.connected,
    msgsPerS: delivered / windowS,
    spread: summarize(spreads),
    fromEmission: summarize(fromEmission),
    firstFromEmission: summarize(first),
    lastFromEmission: summarize(last),
    cpu,
    serverUsPerDelivered: cpu.serverUs / Math.max(1, delivered),
    otherMessages: collected.otherMessages,
    closed: collected.closed,
    errors: collected.errors,
  };
}

async function benchReal(client: ClientProcess, cleanups: Array<() => Promise<void>>): Promise<Measured> {
  // The stream does not touch the database (auth is the configured user's digest), so PGlite is enough.
  const { server, url, close } = await startBenchServer('embedded', cleanups);
  const emissions = emissionLog();
  // Subscribed before any client, so it is called first in each poll: the send-time marker.
  const leave = server.services.hub.subscribe(FEED, (msg) => emissions.note(msg.data));
  const m = await measure(client, 'real', `${url.replace(/^http/, 'ws')}/market-data/stream`, true, emissions.list);
  leave();
  await close();
  return m;
}

async function benchBare(client: ClientProcess, cleanups: Array<() => Promise<void>>): Promise<Measured> {
  const [{ MarketData }, { Connectors }, { SimExchange }, { loadConfig }] = await Promise.all([
    import('../src/core/market-data/market-data.js'),
    import('../src/core/exchange/connectors.js'),
    import('../src/core/exchange/sim/sim-exchange.js'),
    import('../src/core/config.js'),
  ]);
  // The same sim seed as the real server's default, so the payloads are the same kind and size.
  const marketData = new MarketData(new Connectors(undefined, new SimExchange(loadConfig({ API_USERNAME: 'x', API_PASSWORD: 'xxxxxxxx' }).simSeed)));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const subscribers = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'welcome', channels: ['ticker', 'orderbook', 'trades', 'candles'], max_subscriptions: 50 }));
    ws.on('message', () => {
      subscribers.add(ws);
      ws.send(JSON.stringify({ type: 'subscribed', subscription: `${FEED.connector_name}|${FEED.trading_pair}|${FEED.channel}` }));
    });
    ws.on('close', () => subscribers.delete(ws));
  });
  const emissions = emissionLog();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const data = await marketData.orderBook(FEED.connector_name, FEED.trading_pair, 20);
      const msg = { type: FEED.channel, connector_name: FEED.connector_name, trading_pair: FEED.trading_pair, data };
      emissions.note(data);
      const text = SETTINGS.bareStringify === 'once' ? JSON.stringify(msg) : '';
      for (const ws of subscribers) {
        if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > MAX_BUFFERED) continue;
        ws.send(SETTINGS.bareStringify === 'once' ? text : JSON.stringify(msg));
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 1000);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  };
  cleanups.push(close);
  const addr = wss.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  log(`bare: ws WebSocketServer up (serialising ${SETTINGS.bareStringify === 'once' ? 'once per message' : 'once per client'})\n`);
  const m = await measure(client, 'bare', `ws://127.0.0.1:${port}/market-data/stream`, false, emissions.list);
  await close();
  return m;
}

function report(all: Measured[]): void {
  console.log('');
  console.log(`WebSocket fan-out, ${SETTINGS.clients} clients on sim BTC-USDT orderbook (1 s cadence), ${SETTINGS.duration}s window, clients in a forked process, ${cores()} cores`);
  printTable(
    ['target', 'clients', 'bcasts', 'delivered', 'missed', 'msgs/s', 'spread p50', 'spread p99', 'emit→recv p50', 'emit→recv p99', 'emit→last p99', 'srv µs/msg', 'cpu srv/cli/other/steal'],
    all.map((m) => [
      m.name,
      String(m.clients),
      String(m.broadcasts),
      String(m.delivered),
      String(m.expected - m.delivered),
      fmt(m.msgsPerS, 1),
      fmt(m.spread.p50, 2),
      fmt(m.spread.p99, 2),
      fmt(m.fromEmission.p50, 2),
      fmt(m.fromEmission.p99, 2),
      fmt(m.lastFromEmission.p99, 2),
      fmt(m.serverUsPerDelivered, 1),
      cpuCell(m.cpu),
    ]),
  );
  const real = all.find((m) => m.name === 'real')!;
  const bare = all.find((m) => m.name === 'bare')!;
  const r = {
    msgs_per_s: ratio(real.msgsPerS, bare.msgsPerS),
    spread_p50: ratio(real.spread.p50, bare.spread.p50),
    spread_p99: ratio(real.spread.p99, bare.spread.p99),
    emit_p50: ratio(real.fromEmission.p50, bare.fromEmission.p50),
    emit_p99: ratio(real.fromEmission.p99, bare.fromEmission.p99),
    cpu_per_msg: ratio(real.serverUsPerDelivered, bare.serverUsPerDelivered),
  };
  console.log('');
  console.log(`ratios real / bare: msgs/s ${fmt(r.msgs_per_s, 3)}, spread p50 ${fmt(r.spread_p50)}, spread p99 ${fmt(r.spread_p99)}, emit→recv p50 ${fmt(r.emit_p50)}, p99 ${fmt(r.emit_p99)}, server cpu/msg ${fmt(r.cpu_per_msg)}`);
  console.log('');
  for (const m of all) {
    const other = Object.entries(m.otherMessages).map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
    console.log(`${m.name}: connect ${Math.round(m.connectMs)} ms; other messages: ${other}; closed ${m.closed}${m.errors.length ? `; errors: ${m.errors.join(' | ')}` : ''}`);
  }
  const warnings: string[] = [];
  for (const m of all) {
    warnings.push(...cpuWarnings(m.name, m.cpu));
    if (m.delivered !== m.expected) warnings.push(`${m.name}: ${m.expected - m.delivered} of ${m.expected} deliveries missing (slow clients skipped, or a broadcast still in flight after the grace period)`);
  }
  for (const w of warnings) console.log(`warning: ${w}`);
  const row = (m: Measured) => ({
    clients: m.clients,
    broadcasts: m.broadcasts,
    delivered: m.delivered,
    expected: m.expected,
    msgs_per_s: round(m.msgsPerS, 1),
    spread_ms: roundSummary(m.spread),
    emit_to_receive_ms: roundSummary(m.fromEmission),
    emit_to_first_ms: roundSummary(m.firstFromEmission),
    emit_to_last_ms: roundSummary(m.lastFromEmission),
    cpu_server_us_per_msg: round(m.serverUsPerDelivered, 1),
    cpu_server: round(m.cpu.server),
    cpu_client: round(m.cpu.client),
    cpu_other: round(m.cpu.other),
    cpu_steal: round(m.cpu.steal),
  });
  const result = {
    settings: SETTINGS,
    node: process.version,
    cores: cores(),
    runs: { real: row(real), bare: row(bare) },
    ratios: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)])),
    warnings,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  await runMain(async (cleanups) => {
    const client = new ClientProcess(import.meta.url);
    cleanups.push(() => client.close());
    const real = await benchReal(client, cleanups);
    const bare = await benchBare(client, cleanups);
    report([real, bare]);
  });
}

if (process.env.BENCH_ROLE === 'client') clientMain();
else void main();
