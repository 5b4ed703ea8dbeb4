import { RpcBus } from '../core/bots/bus.js';
import type { BotRpc } from '../core/bots/gateway.js';
import type { ResponseData } from '../core/bots/protocol/envelope.js';
import { botPrefix } from '../core/bots/topics.js';
import { Decimal } from '../core/decimal.js';
import { AppError, type ErrorCode, isErrorCode } from '../core/errors.js';
import type { CandleInterval, CandleRow, TradingRules } from '../core/exchange/types.js';
import type { MarketSource } from '../core/executors/live-market.js';
import type { OrderActions, StoredFill, StoredOrder } from '../core/executors/order-actions.js';
import type { OrderSender } from '../core/executors/order-path.js';

/**
 * The bot's side of the gateway (src/core/bots/gateway.ts): every order and market read is an RPC to
 * the server on `hbot/<id>/rpc/<name>`, answered on a reply topic under the bot's own `inbox/`. The
 * server runs it through execute() as `bot:<id>`; a refusal comes back as a 400 with the error's code
 * and becomes that AppError here. Amounts arrive as JSON numbers and are turned into decimal strings
 * from their text (never through float arithmetic).
 */

/** How long one RPC waits for the server; no answer is a TIMEOUT, which the order path retries. */
export const RPC_TIMEOUT_MS = 15_000;

export class ServerRpc {
  constructor(
    private readonly bus: RpcBus,
    private readonly botId: string,
    private readonly timeoutMs = RPC_TIMEOUT_MS,
  ) {}

  /** The reply topics this bot's requests use: the filter its bus is built with. */
  static repliesFilter(botId: string): string {
    return `${botPrefix(botId)}inbox/+`;
  }

  /** Runs one RPC on the server: its result, or the AppError the server refused it with. */
  async call(name: BotRpc, data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.bus.request(`${botPrefix(this.botId)}rpc/${name}`, data, {
      replyTo: RpcBus.replyTopic(`${botPrefix(this.botId)}inbox`),
      timeoutMs: this.timeoutMs,
      who: 'the server',
    });
    if (reply.status === 200) return (reply.result ?? {}) as Record<string, unknown>;
    throw errorOf(reply);
  }
}

/** A 400 answer as the AppError it carries (an unknown code is the server's refusal all the same). */
export function errorOf(reply: ResponseData): AppError {
  const code: ErrorCode = isErrorCode(reply.code) ? reply.code : 'UPSTREAM_REJECTED';
  const details = reply.details && typeof reply.details === 'object' ? (reply.details as Record<string, unknown>) : undefined;
  return new AppError(code, reply.msg || `The server refused the request (status ${reply.status}).`, {
    ...(typeof reply.hint === 'string' ? { hint: reply.hint } : {}),
    ...(details ? { details } : {}),
  });
}

/** A JSON number or string as decimal text. */
const dec = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? String(v) : '0');

interface WireOrder {
  order_id: string;
  client_order_id: string;
  trading_pair: string;
  status: StoredOrder['status'];
  filled_amount: number | string;
  average_fill_price: number | string | null;
  error_message: string | null;
}

interface WireFill {
  price: number | string;
  amount: number | string;
  fee: number | string;
  fee_asset: string;
  is_maker: boolean;
  timestamp: number;
}

export function storedOrder(o: WireOrder): StoredOrder {
  return {
    id: o.order_id,
    clientOrderId: o.client_order_id,
    tradingPair: o.trading_pair,
    status: o.status,
    filledAmount: dec(o.filled_amount),
    averageFillPrice: o.average_fill_price === null ? null : dec(o.average_fill_price),
    errorMessage: o.error_message,
  };
}

export function storedFill(f: WireFill): StoredFill {
  return { price: dec(f.price), amount: dec(f.amount), fee: dec(f.fee), feeAsset: f.fee_asset, isMaker: f.is_maker, at: new Date(f.timestamp) };
}

/** Fills per page of list_fills (its limit). */
const FILLS_PAGE = 500;

/**
 * The order path's actions as RPCs. The server fills in the bot's account and principal; what the
 * sender says of either is not sent. A retried place carries the same client order id, which the
 * server answers with the order it already has.
 */
export class RpcOrderActions implements OrderActions {
  /** get_order answers with the order's fills: kept until the path asks for them, to save a second call. */
  readonly #fillsOf = new Map<string, StoredFill[]>();
  /** Connectors that refused a leverage (a live exchange's perpetual trades at the exchange's setting). */
  readonly #noLeverage = new Set<string>();

  constructor(private readonly rpc: ServerRpc) {}

  async place(_s: OrderSender, order: Record<string, unknown>, _requestId?: string): Promise<void> {
    const { account_name: _account, ...input } = order;
    const connector = String(input.connector_name);
    if (this.#noLeverage.has(connector)) delete input.leverage;
    try {
      await this.rpc.call('place_order', input);
    } catch (err) {
      // The server refuses a leverage on a live exchange's perpetual (it trades at the exchange's
      // setting); the bot cannot tell a live connector from a paper one, so it learns it here.
      const issues = err instanceof AppError && err.code === 'VALIDATION_FAILED' ? ((err.details?.issues as Array<{ path?: string }> | undefined) ?? []) : [];
      if (input.leverage === undefined || !issues.some((i) => i.path === 'leverage')) throw err;
      this.#noLeverage.add(connector);
      delete input.leverage;
      await this.rpc.call('place_order', input);
    }
  }

  async cancel(_s: OrderSender, clientOrderId: string, _requestId?: string): Promise<void> {
    await this.rpc.call('cancel_order', { order_id: clientOrderId });
  }

  async order(_s: OrderSender, clientOrderId: string): Promise<StoredOrder | null> {
    let result: Record<string, unknown>;
    try {
      result = await this.rpc.call('get_order', { order_id: clientOrderId });
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
    const order = storedOrder(result.order as WireOrder);
    this.#fillsOf.set(order.id, ((result.fills as WireFill[] | undefined) ?? []).map(storedFill));
    return order;
  }

  async fills(_s: OrderSender, order: StoredOrder): Promise<StoredFill[]> {
    const kept = this.#fillsOf.get(order.id);
    if (kept) {
      this.#fillsOf.delete(order.id);
      return kept;
    }
    const out: StoredFill[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.rpc.call('list_fills', { order_id: order.id, limit: FILLS_PAGE, ...(cursor ? { cursor } : {}) });
      out.push(...(page.data as WireFill[]).map(storedFill));
      cursor = (page.pagination as { next_cursor: string | null } | undefined)?.next_cursor ?? null;
    } while (cursor);
    return out.reverse();
  }
}

/** Candles per get_candles call (its limit). */
const CANDLES_PAGE = 1000;

/** The market as the server reads it, over RPC. */
export class RpcMarketSource implements MarketSource {
  constructor(private readonly rpc: ServerRpc) {}

  async orderBook(connector: string, pair: string, depth: number) {
    const r = await this.rpc.call('get_order_book', { connector_name: connector, trading_pair: pair, depth });
    return { bids: r.bids as Array<{ price: number }>, asks: r.asks as Array<{ price: number }> };
  }

  async rules(connector: string, pair: string): Promise<TradingRules | null> {
    let r: Record<string, unknown>;
    try {
      r = await this.rpc.call('get_trading_rules', { connector_name: connector, trading_pairs: [pair] });
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
    const row = (r.data as WireRules[] | undefined)?.[0];
    return row ? tradingRules(row) : null;
  }

  async candles(connector: string, pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
    const base = { connector_name: connector, trading_pair: pair, interval };
    const rows: CandleRow[] = [];
    if (opts.since !== undefined) {
      // Forward from `since`, page after page, until the limit or the range's end.
      let start: number | string = opts.since;
      for (;;) {
        const r = await this.rpc.call('get_candles', { ...base, start_time: start, ...(opts.until !== undefined ? { end_time: opts.until } : {}), limit: Math.min(CANDLES_PAGE, opts.limit - rows.length) });
        rows.push(...(r.candles as CandleRow[]).map(candle));
        if (rows.length >= opts.limit || !r.truncated || !r.next_start_time) return rows;
        start = r.next_start_time as string;
      }
    }
    // Back from `until` (or now): the newest `limit`, paging back.
    let end: number | string | undefined = opts.until;
    for (;;) {
      const r = await this.rpc.call('get_candles', { ...base, ...(end !== undefined ? { end_time: end } : {}), limit: Math.min(CANDLES_PAGE, opts.limit - rows.length) });
      rows.unshift(...(r.candles as CandleRow[]).map(candle));
      if (rows.length >= opts.limit || !r.truncated || !r.previous_end_time) return rows;
      end = r.previous_end_time as string;
    }
  }
}

interface WireRules {
  min_order_size: number | string | null;
  max_order_size: number | string | null;
  min_price_increment: number | string | null;
  min_base_amount_increment: number | string | null;
  min_notional_size: number | string | null;
  max_leverage: number | null;
  supported_order_types: TradingRules['supported_order_types'];
}

/** A rule sent as a JSON number, as plain decimal text from its shortest form (1e-8 reads 0.00000001). */
const ruleText = (v: number | string | null): string | null => (v === null ? null : new Decimal(String(v)).toFixed());

function tradingRules(r: WireRules): TradingRules {
  return {
    min_order_size: ruleText(r.min_order_size),
    max_order_size: ruleText(r.max_order_size),
    min_price_increment: ruleText(r.min_price_increment),
    min_base_amount_increment: ruleText(r.min_base_amount_increment),
    min_notional_size: ruleText(r.min_notional_size),
    max_leverage: r.max_leverage,
    supported_order_types: r.supported_order_types,
  };
}

const candle = (c: CandleRow): CandleRow => ({ timestamp: c.timestamp, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
