import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../helpers/test-env.js';

/** Every string leaf of ccxt's `urls.api` (a string or a nested map) replaced by `base`. */
function mapUrls(value: unknown, base: string): unknown {
  if (typeof value === 'string') return base;
  if (Array.isArray(value)) return value.map((v) => mapUrls(v, base));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapUrls(v, base)]));
  return value;
}

async function binanceApiUrls(base: string): Promise<Record<string, unknown>> {
  const ccxt = (await import('ccxt')).default;
  const ex = new ccxt.binance();
  const api = mapUrls((ex.urls as { api: unknown }).api, base) as Record<string, unknown>;
  expect(Object.keys(api).length).toBeGreaterThan(3);
  return api;
}

/** A local TCP server; `mode` says what it does with each connection. */
async function tcpServer(mode: 'hang' | 'close'): Promise<{ server: Server; port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    if (mode === 'close') {
      socket.destroy();
      return;
    }
    // Accept and read, never answer.
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    server,
    port,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t0 };
}

describe('an unreachable exchange never hangs a request', () => {
  let hang: Awaited<ReturnType<typeof tcpServer>>;
  let closing: Awaited<ReturnType<typeof tcpServer>>;
  let s: TestServer;
  let hangUrls: Record<string, unknown>;
  let closeUrls: Record<string, unknown>;
  let upstream: 'hang' | 'close' = 'hang';
  const optionCalls: string[] = [];

  beforeAll(async () => {
    hang = await tcpServer('hang');
    closing = await tcpServer('close');
    hangUrls = await binanceApiUrls(`http://127.0.0.1:${hang.port}`);
    closeUrls = await binanceApiUrls(`http://127.0.0.1:${closing.port}`);
    // Connectors are built once per connector name, when first used: binance (and its paper twin) get
    // the silent server, and binance_perpetual, built after `upstream` is switched, the one that hangs up.
    s = await testServer('pglite', {}, {
      ccxt: (exchange) => {
        optionCalls.push(exchange);
        return { timeoutMs: 500, deadlineMs: 1500, urls: { api: upstream === 'hang' ? hangUrls : closeUrls } };
      },
    });
  });

  afterAll(async () => {
    await s?.stop();
    await hang?.close();
    await closing?.close();
  });

  it('a silent exchange: GET /connectors/binance/markets answers within seconds with 504 or 503 and a hint', async () => {
    const before = hang.connections();
    const { value: r, ms } = await timed(s.call('GET', '/connectors/binance/markets'));
    expect([503, 504]).toContain(r.status);
    expect(['TIMEOUT', 'UPSTREAM_UNAVAILABLE']).toContain(r.body.error.code);
    expect(r.body.error.retryable).toBe(true);
    expect(r.body.error.hint).toBeTruthy();
    expect(r.body.error.details.exchange).toBe('binance');
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    // The override was applied: ccxt really talked to the local server.
    expect(optionCalls).toEqual(['binance']);
    expect(hang.connections()).toBeGreaterThan(before);
    // Deadline 1.5 s; generous bound for a slow machine, far below the 10 s/20 s defaults.
    expect(ms).toBeLessThan(8000);
  });

  it('a second call is just as bounded (no failed state cached, nothing stuck)', async () => {
    const { value: r, ms } = await timed(s.call('GET', '/connectors/binance/trading-rules'));
    expect([503, 504]).toContain(r.status);
    expect(ms).toBeLessThan(8000);
  });

  it('several concurrent calls all come back', async () => {
    const { value: results, ms } = await timed(Promise.all([1, 2, 3].map(() => s.call('GET', '/connectors/binance/markets'))));
    for (const r of results) expect([503, 504]).toContain(r.status);
    expect(ms).toBeLessThan(10_000);
  });

  it('balances through the silent exchange report the connector as an error in place, in bounded time', async () => {
    const created = await s.call('POST', '/accounts', {
      account_name: 'slow',
      connectors: [{ connector_name: 'sim' }, { connector_name: 'binance', credentials: { api_key: 'slow-api-key-0001', secret: 'slow-secret-0001' } }],
    });
    expect(created.status).toBe(201);
    const { value: r, ms } = await timed(s.call('GET', '/accounts/slow/balances'));
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.connectors.map((c: { connector_name: string }) => [c.connector_name, c]));
    expect(byName.sim.status).toBe('ok');
    expect(byName.binance.status).toBe('error');
    expect(['TIMEOUT', 'UPSTREAM_UNAVAILABLE']).toContain(byName.binance.error.code);
    expect(ms).toBeLessThan(8000);
  });

  it('an exchange that closes the connection at once: 503 UPSTREAM_UNAVAILABLE', async () => {
    upstream = 'close';
    const before = closing.connections();
    const { value: r, ms } = await timed(s.call('GET', '/connectors/binance_perpetual/markets'));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.body.error.hint).toMatch(/sim/);
    expect(closing.connections()).toBeGreaterThan(before);
    expect(ms).toBeLessThan(8000);
  });
});

describe('with the default options, offline', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer('pglite');
  });
  afterAll(async () => s?.stop());

  it('binance markets answer 503 UPSTREAM_UNAVAILABLE quickly (DNS fails)', async () => {
    const { value: r, ms } = await timed(s.call('GET', '/connectors/binance/markets'));
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.body.error.retryable).toBe(true);
    expect(r.body.error.hint).toMatch(/offline|sim/);
    expect(r.body.error.details.exchange).toBe('binance');
    // Well below the default 10 s request timeout: a DNS failure is not waited out.
    expect(ms).toBeLessThan(8000);
  });

  it('the paper twin and the perpetual connector fail the same way', async () => {
    for (const name of ['binance_paper_trade', 'binance_perpetual']) {
      const r = await s.call('GET', `/connectors/${name}/markets`);
      expect(r.status, name).toBe(503);
      expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    }
  });

  it('the offline sim connector keeps working meanwhile', async () => {
    const r = await s.call('GET', '/connectors/sim/markets');
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBe(4);
  });
});
