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
export interface ExchangeConnector {
  readonly info: ConnectorInfo;
  loadMarkets(): Promise<Market[]>;
  fetchBalances(credentials: Record<string, string> | null): Promise<Balance[]>;
}
