/**
 * The exchange vocabulary the rest of the code sees. Amounts and prices are decimal strings here;
 * they become JSON numbers only in command outputs.
 */
export type MarketType = 'spot' | 'perpetual';
export type ConnectorKind = 'sim' | 'exchange' | 'paper';

export interface TradingRules {
  min_order_size: string | null;
  max_order_size: string | null;
  min_price_increment: string | null;
  min_base_amount_increment: string | null;
  min_notional_size: string | null;
  max_leverage: number | null;
  supported_order_types: Array<'market' | 'limit' | 'limit_maker'>;
}

export interface Market {
  trading_pair: string;
  base: string;
  quote: string;
  market_type: MarketType;
  active: boolean;
  rules: TradingRules;
}

export interface Balance {
  asset: string;
  total: string;
  available: string;
  locked: string;
}

/** A credential field a connector needs, in our snake_case wire names. */
export type CredentialField = 'api_key' | 'secret' | 'password' | 'uid' | 'login' | 'private_key' | 'wallet_address' | 'account_id' | 'token' | 'twofa';

export interface ConnectorInfo {
  name: string;
  kind: ConnectorKind;
  /** The ccxt exchange id behind it, or "sim". */
  exchange: string;
  market_type: MarketType;
  /** Works with no network: sim always; paper connectors need their exchange's public data. */
  offline: boolean;
  requires_credentials: boolean;
  credential_fields: CredentialField[];
  display_name: string;
  website: string | null;
}

/** One exchange connection, public or authenticated. Errors are already AppErrors. */
export interface ExchangeConnector extends MarketDataSource {
  readonly info: ConnectorInfo;
  /** The earliest time it has candles for, when that is known (sim: where its price model begins). */
  readonly historyStart?: number;
  loadMarkets(): Promise<Market[]>;
  fetchBalances(credentials: Record<string, string> | null): Promise<Balance[]>;
}

export const CANDLE_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];
export const INTERVAL_MS: Record<CandleInterval, number> = {
  '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '2h': 7_200_000,
  '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000, '1d': 86_400_000, '3d': 259_200_000, '1w': 604_800_000,
};

export interface Ticker {
  trading_pair: string;
  timestamp: number;
  last: number;
  bid: number | null;
  ask: number | null;
  high_24h: number | null;
  low_24h: number | null;
  volume_24h: number | null;
  change_24h_pct: number | null;
}

export interface OrderBook {
  trading_pair: string;
  timestamp: number;
  bids: Array<{ price: number; amount: number }>;
  asks: Array<{ price: number; amount: number }>;
}

export interface CandleRow {
  timestamp: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface PublicTrade {
  trade_id: string;
  timestamp: number;
  side: 'buy' | 'sell';
  price: number;
  amount: number;
}

/** Market data every connector serves; `since`/`until` are epoch ms, results oldest first. */
export interface MarketDataSource {
  fetchTicker(pair: string): Promise<Ticker>;
  fetchOrderBook(pair: string, depth: number): Promise<OrderBook>;
  fetchCandles(pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]>;
  fetchTrades(pair: string, limit: number): Promise<PublicTrade[]>;
}

/** An order as a live exchange reports it, already in our vocabulary. */
export interface ExchangeOrder {
  exchange_order_id: string;
  client_order_id: string | null;
  status: 'open' | 'partially_filled' | 'filled' | 'canceled' | 'rejected';
  amount: string;
  filled: string;
  average_price: string | null;
  fee: string | null;
  fee_asset: string | null;
  trades: Array<{ id: string; price: string; amount: string; fee: string | null; fee_asset: string | null; maker: boolean; timestamp: number }>;
}

export interface NewOrder {
  trading_pair: string;
  side: 'buy' | 'sell';
  order_type: 'market' | 'limit' | 'limit_maker';
  amount: string;
  price: string | null;
  client_order_id: string;
  reduce_only?: boolean;
}

/** Trading on a live exchange with one account's credentials. */
export interface LiveTrading {
  createOrder(credentials: Record<string, string>, order: NewOrder): Promise<ExchangeOrder>;
  cancelOrder(credentials: Record<string, string>, exchangeOrderId: string, pair: string): Promise<ExchangeOrder>;
  /** By exchange id, or by our client order id when the exchange id is not known (after a crash). */
  fetchOrder(credentials: Record<string, string>, ref: { exchange_order_id?: string; client_order_id?: string }, pair: string): Promise<ExchangeOrder>;
}
