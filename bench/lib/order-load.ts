/**
 * The order load generator of bench/order-throughput (runs in the forked client process): C clients,
 * each with its own keep-alive connection, each placing a small market order and waiting for its answer
 * before the next, for D seconds. Every n-th order is retried after its ack, every m-th is sent twice at
 * once on two connections; client c trades on account c mod (number of accounts). The same load runs
 * against tradedesk and the floor; both answer {order, fills, replayed}.
 */
import { Agent, request } from 'node:http';
import { AUTH, orderBody, summarize, type ClientReply, type Summary } from './harness.js';
import type { Acked } from './order-checks.js';

export interface LoadRequest {
  id: number;
  url: string;
  concurrency: number;
  durationS: number;
  /** client_order_id prefix; ids are `<prefix><client>-<n>`. */
  prefix: string;
  /** Client c places its orders on accounts[c % accounts.length]. */
  accounts: string[];
  retryEvery: number;
  raceEvery: number;
}

export interface LoadReply extends ClientReply {
  /** Completed new orders (201, replayed false), and their latencies in ms. */
  ok: number;
  latency: Summary;
  /** From the first request to the last response (the clients stop starting requests after durationS and wait for the ones in flight). */
  elapsedMs: number;
  requests: number;
  acked: Acked;
  failures: Record<string, number>;
  failureSamples: string[];
  retries: { sent: number; replayed: number; sameOrder: number; notReplayed: number; failed: number };
  races: { pairs: number; oneNewOneReplayed: number; sameOrder: number; bothNew: number; failed: number };
}

interface Res {
  status: number;
  text: string;
}

function send(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, body = ''): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: AUTH };
    if (method === 'POST') Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request({ host: base.hostname, port: base.port, path, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface PlaceBody {
  order: { order_id: string; client_order_id: string; status: string };
  fills: unknown[];
  replayed: boolean;
}

export async function loadRun(msg: LoadRequest): Promise<Omit<LoadReply, 'id' | 'cpuCores'>> {
  const base = new URL(msg.url);
  // One keep-alive connection per client, and one more each for the racing duplicates.
  const agents = Array.from({ length: msg.concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const raceAgents = Array.from({ length: msg.concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  // Open every connection before the clock starts.
  await Promise.all([...agents, ...raceAgents].map((a) => send(a, base, 'GET', '/health')));

  const lat: number[] = [];
  const acked: Acked = [];
  const failures: Record<string, number> = {};
  const failureSamples: string[] = [];
  const retries = { sent: 0, replayed: 0, sameOrder: 0, notReplayed: 0, failed: 0 };
  const races = { pairs: 0, oneNewOneReplayed: 0, sameOrder: 0, bothNew: 0, failed: 0 };
  let requests = 0;
  let ok = 0;
  const fail = (what: string, r: Res | Error) => {
    const key = r instanceof Error ? `${what}: ${r.message}` : `${what}: ${r.status}`;
    failures[key] = (failures[key] ?? 0) + 1;
    if (failureSamples.length < 5) failureSamples.push(r instanceof Error ? `${what}: ${r.message}` : `${what}: ${r.status} ${r.text.slice(0, 200)}`);
  };
  const parse = (r: Res): PlaceBody | null => {
    if (r.status !== 201) return null;
    try {
      return JSON.parse(r.text) as PlaceBody;
    } catch {
      return null;
    }
  };

  const t0 = performance.now();
  const deadline = t0 + msg.durationS * 1000;
  let last = t0;
  /** Orders started by all clients together: picks the retried and the raced ones evenly across clients. */
  let started = 0;
  const worker = async (c: number) => {
    const agent = agents[c]!;
    const account = msg.accounts[c % msg.accounts.length]!;
    let n = 0;
    while (performance.now() < deadline) {
      const i = n++;
      const cid = `${msg.prefix}${c}-${i}`;
      const g = started++;
      // Per client, buys and sells alternate so that every client's position stays near zero.
      const body = JSON.stringify(orderBody(i % 2 === 0 ? 'buy' : 'sell', cid, account));
      const s = performance.now();
      if (msg.raceEvery > 0 && g % msg.raceEvery === msg.raceEvery - 1) {
        // The same order twice at once, on two connections: exactly one must be new, both the same order.
        requests += 2;
        races.pairs++;
        const [a, b] = await Promise.all([send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e), send(raceAgents[c]!, base, 'POST', '/trading/orders', body).catch((e: Error) => e)]);
        last = performance.now();
        const pa = a instanceof Error ? null : parse(a);
        const pb = b instanceof Error ? null : parse(b);
        if (!pa || !pb) {
          races.failed++;
          if (!pa) fail('race', a);
          if (!pb) fail('race', b);
          const first = pa ?? pb;
          if (first && !first.replayed) {
            ok++;
            acked.push([cid, first.order.order_id, first.fills.length, first.order.status]);
          }
          continue;
        }
        if (pa.order.order_id === pb.order.order_id) races.sameOrder++;
        if (pa.replayed !== pb.replayed) races.oneNewOneReplayed++;
        if (!pa.replayed && !pb.replayed) races.bothNew++;
        const fresh = pa.replayed ? pb : pa;
        if (!fresh.replayed) {
          ok++;
          lat.push(last - s);
          acked.push([cid, fresh.order.order_id, fresh.fills.length, fresh.order.status]);
        }
        continue;
      }
      requests++;
      const r = await send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e);
      last = performance.now();
      const p = r instanceof Error ? null : parse(r);
      if (!p || p.replayed) {
        fail(p?.replayed ? 'order replayed on first send' : 'order', r);
        continue;
      }
      ok++;
      lat.push(last - s);
      acked.push([cid, p.order.order_id, p.fills.length, p.order.status]);
      if (msg.retryEvery > 0 && g % msg.retryEvery === 0) {
        // A client that did not see the answer retries with the same client_order_id.
        requests++;
        retries.sent++;
        const rr = await send(agent, base, 'POST', '/trading/orders', body).catch((e: Error) => e);
        last = performance.now();
        const pr = rr instanceof Error ? null : parse(rr);
        if (!pr) {
          retries.failed++;
          fail('retry', rr);
          continue;
        }
        if (pr.replayed) retries.replayed++;
        else retries.notReplayed++;
        if (pr.order.order_id === p.order.order_id) retries.sameOrder++;
      }
    }
  };
  await Promise.all(Array.from({ length: msg.concurrency }, (_, c) => worker(c)));
  for (const a of [...agents, ...raceAgents]) a.destroy();
  return { ok, latency: summarize(lat), elapsedMs: last - t0, requests, acked, failures, failureSamples, retries, races };
}
