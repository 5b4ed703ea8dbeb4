import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binanceApiUrls, offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { testServer, type TestServer } from '../helpers/test-env.js';

async function binanceUrls(base: string): Promise<Record<string, unknown>> {
  const api = await binanceApiUrls(base);
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

/**
 * No timing is asserted here (timings are measured in bench/): a request that hung past the 1.5 s
 * deadline would hit the test's own timeout and fail it, and the answer must be the deadline's TIMEOUT.
 */
const BOUNDED = 20_000;

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
    hangUrls = await binanceUrls(`http://127.0.0.1:${hang.port}`);
    closeUrls = await binanceUrls(`http://127.0.0.1:${closing.port}`);
    // Connectors are built once per connector name, when first used: binance (and its paper twin) get
    // the silent server, and binance_perpetual, built after `upstream` is switched, the one that hangs up.
    s = await testServer('postgres', {}, {
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

  it('a silent exchange: GET /connectors/binance/markets answers 504 TIMEOUT at the deadline, with a hint', async () => {
    const before = hang.connections();
    const r = await s.call('GET', '/connectors/binance/markets');
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('TIMEOUT');
    expect(r.body.error.retryable).toBe(true);
    expect(r.body.error.hint).toBeTruthy();
    expect(r.body.error.details.exchange).toBe('binance');
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    // The override was applied: ccxt really talked to the local server.
    expect(optionCalls).toEqual(['binance']);
    expect(hang.connections()).toBeGreaterThan(before);
  }, BOUNDED);

  it('a second call is just as bounded (no failed state cached, nothing stuck)', async () => {
    const r = await s.call('GET', '/connectors/binance/trading-rules');
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('TIMEOUT');
  }, BOUNDED);

  it('several concurrent calls all come back', async () => {
    const results = await Promise.all([1, 2, 3].map(() => s.call('GET', '/connectors/binance/markets')));
    expect(results.map((r) => [r.status, r.body.error.code])).toEqual([
      [504, 'TIMEOUT'],
      [504, 'TIMEOUT'],
      [504, 'TIMEOUT'],
    ]);
  }, BOUNDED);

  it('balances through the silent exchange report the connector as an error in place, in bounded time', async () => {
    const created = await s.call('POST', '/accounts', {
      account_name: 'slow',
      connectors: [{ connector_name: 'sim' }, { connector_name: 'binance', credentials: { api_key: 'slow-api-key-0001', secret: 'slow-secret-0001' } }],
    });
    expect(created.status).toBe(201);
    const r = await s.call('GET', '/accounts/slow/balances');
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.connectors.map((c: { connector_name: string }) => [c.connector_name, c]));
    expect(byName.sim.status).toBe('ok');
    expect(byName.binance.status).toBe('error');
    expect(byName.binance.error.code).toBe('TIMEOUT');
  }, BOUNDED);

  it('an exchange that closes the connection at once: 503 UPSTREAM_UNAVAILABLE', async () => {
    upstream = 'close';
    const before = closing.connections();
    const r = await s.call('GET', '/connectors/binance_perpetual/markets');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.body.error.hint).toMatch(/sim/);
    expect(closing.connections()).toBeGreaterThan(before);
  }, BOUNDED);
});

/** Binance offline on any machine: a local server that hangs up at once, never the real exchange. */
describe('binance offline', () => {
  let s: TestServer;
  let offline: OfflineExchange;
  beforeAll(async () => {
    offline = await offlineBinance();
    s = await testServer('postgres', {}, { ccxt: offline.ccxt });
  });
  afterAll(async () => {
    await s?.stop();
    await offline?.close();
  });

  it('binance markets answer 503 UPSTREAM_UNAVAILABLE with a hint towards sim', async () => {
    const before = offline.connections();
    const r = await s.call('GET', '/connectors/binance/markets');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.body.error.retryable).toBe(true);
    expect(r.body.error.hint).toMatch(/offline|sim/);
    expect(r.body.error.details.exchange).toBe('binance');
    expect(offline.connections()).toBeGreaterThan(before);
  }, BOUNDED);

  it('the paper twin and the perpetual connector fail the same way', async () => {
    for (const name of ['binance_paper_trade', 'binance_perpetual']) {
      const r = await s.call('GET', `/connectors/${name}/markets`);
      expect(r.status, name).toBe(503);
      expect(r.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    }
  }, BOUNDED);

  it('the offline sim connector keeps working meanwhile', async () => {
    const r = await s.call('GET', '/connectors/sim/markets');
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBe(4);
  });
});
