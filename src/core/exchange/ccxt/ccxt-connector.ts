import type { Exchange } from 'ccxt';
import { AppError } from '../../errors.js';
import { systemClock, type Clock } from '../../clock.js';
import type { Order as CcxtOrder } from 'ccxt';
import type { Balance, CandleInterval, CandleRow, ConnectorInfo, CredentialField, ExchangeConnector, ExchangeOrder, LiveTrading, Market, NewOrder, OrderBook, PublicTrade, Ticker } from '../types.js';
import { mapCcxtError, unavailable } from './errors.js';
import { loadCcxt } from './ccxt-loader.js';
import { fromCcxtSymbol, toCcxtSymbol, toDecimalString } from './symbols.js';

/** ccxt keeps a rejected loadMarkets() promise and returns it forever; reload while no markets are loaded. */
const ensureMarkets = (ex: Exchange) => ex.loadMarkets(!ex.markets);

/** ccxt's precision mode where precision values are tick sizes rather than decimal places. */
const TICK_SIZE = 4;

/** Our snake_case credential field → the ccxt property it sets. */
export const CCXT_CREDENTIAL_FIELDS: Record<CredentialField, string> = {
  api_key: 'apiKey',
  secret: 'secret',
  password: 'password',
  uid: 'uid',
  login: 'login',
  private_key: 'privateKey',
  wallet_address: 'walletAddress',
  account_id: 'accountId',
  token: 'token',
  twofa: 'twofa',
};

export interface CcxtOptions {
  /** Per-request timeout handed to ccxt. */
  timeoutMs: number;
  /** Ceiling on a whole operation (ccxt may make several requests for one call). */
  deadlineMs: number;
  /** Replaces the exchange's API base URLs (the local exchange fixture uses this). */
  urls?: Record<string, unknown>;
  /** Merged into the ccxt exchange's `options`. */
  ccxtOptions?: Record<string, unknown>;
}

export const DEFAULT_CCXT_OPTIONS: CcxtOptions = { timeoutMs: 10_000, deadlineMs: 20_000 };

/** A ccxt exchange for one connector. Public calls share one instance; each credential set gets its own. */
export class CcxtConnector implements ExchangeConnector, LiveTrading {
  #public: Promise<Exchange> | undefined;
  /** One instance per credential set, so each key keeps its own rate limiter and nonce. */
  readonly #private = new Map<string, Promise<Exchange>>();
  #markets: { at: number; value: Market[] } | undefined;
  static readonly MARKETS_TTL_MS = 60 * 60_000;

  constructor(
    readonly info: ConnectorInfo,
    private readonly options: CcxtOptions = DEFAULT_CCXT_OPTIONS,
    private readonly clock: Clock = systemClock,
  ) {}

  async #instance(credentials: Record<string, string> | null): Promise<Exchange> {
    const ccxt = await loadCcxt();
    const Cls = (ccxt as unknown as Record<string, new (o: object) => Exchange>)[this.info.exchange];
    if (!Cls) throw new AppError('NOT_FOUND', `ccxt has no exchange ${this.info.exchange}.`);
    const config: Record<string, unknown> = {
      enableRateLimit: true,
      timeout: this.options.timeoutMs,
      options: { defaultType: this.info.market_type === 'perpetual' ? 'swap' : 'spot' },
    };
    for (const [field, value] of Object.entries(credentials ?? {})) {
      const prop = CCXT_CREDENTIAL_FIELDS[field as CredentialField];
      if (prop) config[prop] = value;
    }
    const ex = new Cls(config);
    if (this.options.urls) ex.urls = { ...ex.urls, ...this.options.urls } as Exchange['urls'];
    if (this.options.ccxtOptions) ex.options = { ...ex.options, ...this.options.ccxtOptions };
    return ex;
  }

  #privateInstance(credentials: Record<string, string>): Promise<Exchange> {
    const key = JSON.stringify(Object.entries(credentials).sort());
    let ex = this.#private.get(key);
    if (!ex) {
      ex = this.#instance(credentials);
      this.#private.set(key, ex);
    }
    return ex;
  }

  #publicInstance(): Promise<Exchange> {
    this.#public ??= this.#instance(null);
    return this.#public;
  }

  /** Runs one ccxt operation under the deadline, with its errors mapped to ours. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    const ccxt = await loadCcxt();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(this.info.exchange, { exchange: this.info.exchange, reason: `no answer within ${this.options.deadlineMs} ms` })),
        this.options.deadlineMs,
      );
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      throw mapCcxtError(ccxt, err, this.info.exchange);
    } finally {
      clearTimeout(timer);
    }
  }

  async loadMarkets(): Promise<Market[]> {
    if (this.#markets && this.clock.now() - this.#markets.at < CcxtConnector.MARKETS_TTL_MS) return this.#markets.value;
    const ex = await this.#publicInstance();
    const raw = await this.#call(() => ensureMarkets(ex));
    const tickMode = ex.precisionMode === TICK_SIZE;
    const wantSwap = this.info.market_type === 'perpetual';
    const markets: Market[] = [];
    for (const m of Object.values(raw)) {
      if (!m || (wantSwap ? !m.swap : !m.spot)) continue;
      const pair = fromCcxtSymbol(m.symbol);
      if (!pair) continue;
      const step = (p: number | undefined) => (p === undefined || p === null ? null : tickMode ? toDecimalString(p) : toDecimalString(10 ** -p));
      const leverage = (m.limits as { leverage?: { max?: number } } | undefined)?.leverage?.max;
      markets.push({
        trading_pair: pair,
        base: m.base,
        quote: m.quote,
        market_type: wantSwap ? 'perpetual' : 'spot',
        active: m.active !== false,
        rules: {
          min_order_size: toDecimalString(m.limits?.amount?.min),
          max_order_size: toDecimalString(m.limits?.amount?.max),
          min_price_increment: step(m.precision?.price),
          min_base_amount_increment: step(m.precision?.amount),
          min_notional_size: toDecimalString(m.limits?.cost?.min),
          max_leverage: typeof leverage === 'number' ? leverage : null,
          supported_order_types: ['market', 'limit', 'limit_maker'],
        },
      });
    }
    markets.sort((a, b) => a.trading_pair.localeCompare(b.trading_pair));
    this.#markets = { at: this.clock.now(), value: markets };
    return markets;
  }

  async fetchBalances(credentials: Record<string, string> | null): Promise<Balance[]> {
    if (!credentials) throw new AppError('PRECONDITION_FAILED', `${this.info.name} needs credentials to read balances.`, { hint: 'Add them with PUT /accounts/{account_name}.' });
    const ex = await this.#privateInstance(credentials);
    const bal = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.fetchBalance();
    });
    const out: Balance[] = [];
    const totals = (bal.total ?? {}) as unknown as Record<string, number | undefined>;
    const free = (bal.free ?? {}) as unknown as Record<string, number | undefined>;
    const used = (bal.used ?? {}) as unknown as Record<string, number | undefined>;
    for (const [asset, total] of Object.entries(totals)) {
      if (!total) continue;
      out.push({ asset, total: toDecimalString(total) ?? '0', available: toDecimalString(free[asset]) ?? '0', locked: toDecimalString(used[asset]) ?? '0' });
    }
    return out.sort((a, b) => a.asset.localeCompare(b.asset));
  }

  #symbol(pair: string): string {
    return toCcxtSymbol(pair, this.info.market_type === 'perpetual');
  }

  async fetchTicker(pair: string): Promise<Ticker> {
    const ex = await this.#publicInstance();
    const t = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.fetchTicker(this.#symbol(pair));
    });
    const last = t.last ?? t.close ?? (t.bid && t.ask ? (t.bid + t.ask) / 2 : undefined);
    if (last === undefined) throw new AppError('UPSTREAM_REJECTED', `${this.info.exchange} returned no price for ${pair}.`);
    return {
      trading_pair: pair,
      timestamp: t.timestamp ?? this.clock.now(),
      last,
      bid: t.bid ?? null,
      ask: t.ask ?? null,
      high_24h: t.high ?? null,
      low_24h: t.low ?? null,
      volume_24h: t.baseVolume ?? null,
      change_24h_pct: t.percentage ?? null,
    };
  }

  async fetchOrderBook(pair: string, depth: number): Promise<OrderBook> {
    const ex = await this.#publicInstance();
    const ob = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.fetchOrderBook(this.#symbol(pair), depth);
    });
    const side = (levels: Array<Array<number | undefined>>) => levels.slice(0, depth).map(([price, amount]) => ({ price: Number(price), amount: Number(amount) }));
    return { trading_pair: pair, timestamp: ob.timestamp ?? this.clock.now(), bids: side(ob.bids as never), asks: side(ob.asks as never) };
  }

  async fetchCandles(pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
    const ex = await this.#publicInstance();
    const rows = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.fetchOHLCV(this.#symbol(pair), interval, opts.since, opts.limit, opts.until !== undefined ? { until: opts.until } : {});
    });
    return rows
      .filter((r) => opts.until === undefined || Number(r[0]) <= opts.until)
      .map((r) => ({ timestamp: Number(r[0]), open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]), volume: Number(r[5]) }));
  }

  async fetchTrades(pair: string, limit: number): Promise<PublicTrade[]> {
    const ex = await this.#publicInstance();
    const trades = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.fetchTrades(this.#symbol(pair), undefined, limit);
    });
    return trades.map((t) => ({ trade_id: String(t.id ?? t.timestamp), timestamp: t.timestamp ?? 0, side: t.side === 'sell' ? 'sell' : 'buy', price: Number(t.price), amount: Number(t.amount) }));
  }

  async createOrder(credentials: Record<string, string>, o: NewOrder): Promise<ExchangeOrder> {
    const ex = await this.#privateInstance(credentials);
    const params: Record<string, unknown> = { clientOrderId: o.client_order_id };
    if (o.order_type === 'limit_maker') params.postOnly = true;
    // Spot endpoints reject a reduceOnly flag (Binance answers -1104).
    if (o.reduce_only && this.info.market_type === 'perpetual') params.reduceOnly = true;
    const type = o.order_type === 'market' ? 'market' : 'limit';
    const placed = await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.createOrder(this.#symbol(o.trading_pair), type, o.side, Number(o.amount), o.price === null ? undefined : Number(o.price), params);
    });
    return fromCcxtOrder(placed, o.client_order_id, this.clock.now());
  }

  async cancelOrder(credentials: Record<string, string>, exchangeOrderId: string, pair: string): Promise<ExchangeOrder> {
    const ex = await this.#privateInstance(credentials);
    const symbol = this.#symbol(pair);
    await this.#call(async () => {
      await ensureMarkets(ex);
      return ex.cancelOrder(exchangeOrderId, symbol);
    });
    // Some exchanges answer a cancel with a partial order; read it back for the final state.
    return this.fetchOrder(credentials, { exchange_order_id: exchangeOrderId }, pair);
  }

  async fetchOrder(credentials: Record<string, string>, ref: { exchange_order_id?: string; client_order_id?: string }, pair: string): Promise<ExchangeOrder> {
    const ex = await this.#privateInstance(credentials);
    const symbol = this.#symbol(pair);
    const order = await this.#call(async () => {
      await ensureMarkets(ex);
      const found = ref.exchange_order_id ? await ex.fetchOrder(ref.exchange_order_id, symbol) : await ex.fetchOrder('', symbol, { clientOrderId: ref.client_order_id });
      // Order lookups usually carry no executions; read them so that fills are recorded.
      if ((found.filled ?? 0) > 0 && !found.trades?.length && ex.has.fetchOrderTrades) found.trades = await ex.fetchOrderTrades(String(found.id), symbol);
      return found;
    });
    return fromCcxtOrder(order, ref.client_order_id ?? null, this.clock.now());
  }
}

/** `seenAt` stamps a trade the exchange sent without a time. */
function fromCcxtOrder(o: CcxtOrder, clientOrderId: string | null, seenAt: number): ExchangeOrder {
  const filled = o.filled ?? 0;
  const amount = o.amount ?? 0;
  const status: ExchangeOrder['status'] =
    o.status === 'closed' ? 'filled' : o.status === 'canceled' || o.status === 'expired' ? 'canceled' : o.status === 'rejected' ? 'rejected' : filled > 0 ? 'partially_filled' : 'open';
  return {
    exchange_order_id: String(o.id),
    client_order_id: o.clientOrderId ?? clientOrderId,
    status,
    amount: toDecimalString(amount) ?? '0',
    filled: toDecimalString(filled) ?? '0',
    average_price: toDecimalString(o.average ?? (filled > 0 && o.cost ? o.cost / filled : undefined)),
    fee: toDecimalString(o.fee?.cost ?? (o.trades?.length ? o.trades.reduce((sum, t) => sum + (t.fee?.cost ?? 0), 0) : undefined)),
    fee_asset: o.fee?.currency ?? o.trades?.find((t) => t.fee?.currency)?.fee?.currency ?? null,
    trades: (o.trades ?? []).map((t, i) => ({
      id: String(t.id ?? `${o.id}-${i}`),
      price: toDecimalString(t.price) ?? '0',
      amount: toDecimalString(t.amount) ?? '0',
      fee: toDecimalString(t.fee?.cost),
      fee_asset: t.fee?.currency ?? null,
      maker: t.takerOrMaker === 'maker',
      timestamp: t.timestamp ?? seenAt,
    })),
  };
}
