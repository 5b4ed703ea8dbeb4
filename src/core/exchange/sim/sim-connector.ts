import { AppError } from '../../errors.js';
import type { Balance, CandleInterval, CandleRow, ConnectorInfo, ExchangeConnector, Market, MarketType, OrderBook, PublicTrade, Ticker } from '../types.js';
import { simMarkets } from './markets.js';
import type { SimExchange } from './sim-exchange.js';
import { SIM_EPOCH_MS } from './price-model.js';

export const SIM_CONNECTORS = ['sim', 'sim_perpetual'] as const;

export function simInfo(name: string): ConnectorInfo | undefined {
  if (!(SIM_CONNECTORS as readonly string[]).includes(name)) return undefined;
  const perp = name === 'sim_perpetual';
  return {
    name,
    kind: 'sim',
    exchange: 'sim',
    market_type: perp ? 'perpetual' : 'spot',
    offline: true,
    requires_credentials: false,
    credential_fields: [],
    display_name: perp ? 'Simulated exchange (perpetuals)' : 'Simulated exchange (spot)',
    website: null,
  };
}

/** The built-in synthetic exchange: always available, no network, no credentials; balances are paper. */
export class SimConnector implements ExchangeConnector {
  readonly #markets: Market[];
  readonly historyStart = SIM_EPOCH_MS;
  constructor(
    readonly info: ConnectorInfo,
    private readonly exchange: SimExchange,
  ) {
    this.#markets = simMarkets(info.market_type as MarketType);
  }

  async loadMarkets(): Promise<Market[]> {
    return this.#markets;
  }

  async fetchBalances(): Promise<Balance[]> {
    throw new AppError('NOT_SUPPORTED', 'sim balances are paper balances kept by this server.', { hint: 'Read them through the account.' });
  }

  #market(pair: string) {
    return this.exchange.market(this.info.market_type, pair);
  }

  async fetchTicker(pair: string): Promise<Ticker> {
    return this.exchange.ticker(this.#market(pair));
  }

  async fetchOrderBook(pair: string, depth: number): Promise<OrderBook> {
    return this.exchange.orderBook(this.#market(pair), depth);
  }

  async fetchCandles(pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
    return this.exchange.candles(this.#market(pair), interval, opts);
  }

  async fetchTrades(pair: string, limit: number): Promise<PublicTrade[]> {
    return this.exchange.trades(this.#market(pair), limit);
  }
}
