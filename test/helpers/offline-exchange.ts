import { createServer, type Server } from 'node:net';
import { DEFAULT_CCXT_OPTIONS, type CcxtOptions } from '../../src/core/exchange/ccxt/ccxt-connector.js';

/** Every string leaf of ccxt's `urls.api` (a string or a nested map) replaced by `base`. */
function mapUrls(value: unknown, base: string): unknown {
  if (typeof value === 'string') return base;
  if (Array.isArray(value)) return value.map((v) => mapUrls(v, base));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapUrls(v, base)]));
  return value;
}

/** ccxt's binance API URL map with every URL pointed at `base` (a local server standing in for binance). */
export async function binanceApiUrls(base: string): Promise<Record<string, unknown>> {
  const ccxt = (await import('ccxt')).default;
  return mapUrls((new ccxt.binance().urls as { api: unknown }).api, base) as Record<string, unknown>;
}

export interface OfflineExchange {
  /** Pass as ServiceOptions.ccxt: binance (spot, perpetual, paper twin) talks to a server that hangs up at once. */
  ccxt: (exchange: string) => CcxtOptions;
  /** How many connections the fake exchange accepted (proves ccxt really tried it). */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A deterministic "binance is offline": a local TCP server that closes every connection at once, with
 * ccxt's binance API URLs pointed at it. Unlike relying on DNS failing, this is offline everywhere.
 */
export async function offlineBinance(): Promise<OfflineExchange> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const api = await binanceApiUrls(`http://127.0.0.1:${port}`);
  return {
    ccxt: (exchange) => (exchange === 'binance' ? { timeoutMs: 1500, deadlineMs: 3000, urls: { api } } : DEFAULT_CCXT_OPTIONS),
    connections: () => connections,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
