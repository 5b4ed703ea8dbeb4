import type { ExecutorPrincipal, ExecutorRuntime, OutboxEntry } from '../db/schema/index.js';
import { AppError, toAppError } from '../errors.js';
import type { OrderRequest, OrderSink, OrderUpdate } from '../strategy/types.js';
import type { OrderActions, StoredOrder } from './order-actions.js';
import { refusalOf, rejectionCode, seenKey, updateOf } from './order-updates.js';

/** Failures after which the same order action is tried again on the next cycle rather than answered as refused. */
const RETRY_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'RATE_LIMITED', 'TIMEOUT']);

/**
 * Whoever sends strategy orders on the order path: a standalone executor, a controller run with all its
 * executors, or a bot's strategy. It owns an outbox (filled by `OrderPath.sink`, emptied by `flush`) and the
 * bookkeeping of what it was told about each order (`runtime`: fills already delivered, last state).
 */
export interface OrderSender {
  /** What the orders are journaled under: request ids are `<kind>:<id>:<client order id>`. */
  readonly kind: 'executor' | 'controller' | 'bot';
  readonly id: string;
  readonly account: string;
  /** Who the orders run as (its creator; a bot's are run as `bot:<id>` by the server's gateway whatever this says). */
  readonly principal: ExecutorPrincipal;
  outbox: OutboxEntry[];
  readonly runtime: ExecutorRuntime;
}

/** Hands an order's update to whatever placed the order. */
export type Deliver = (update: OrderUpdate) => void;

/**
 * The order path for strategy code, on the server and in a bot process alike: every order action a
 * sender's executors ask for goes out through `actions` (on the server through execute() as the
 * sender's principal; in a bot as an RPC the server runs the same way), so role, account scope,
 * guardrails, the kill switch and the journal apply to it as to anyone's; the stored order is then read
 * back and turned into the executor's OrderUpdate, each fill delivered once. Every submit carries its
 * client order id, so sending one again (after a timeout, a crash) is a replay, never a second order.
 */
export class OrderPath {
  constructor(private readonly actions: OrderActions) {}

  /** A sink that only queues: what it is given waits in the sender's outbox for `flush`. */
  sink(s: OrderSender): OrderSink {
    return {
      submit: (o) => s.outbox.push({ kind: 'submit', order: wireOrder(o) }),
      cancel: (_connector, _pair, id) => s.outbox.push({ kind: 'cancel', client_order_id: id }),
    };
  }

  /** Delivers the updates of the working orders `ids` that are not waiting in the outbox. */
  async poll(s: OrderSender, ids: readonly string[], now: number, deliver: Deliver): Promise<void> {
    const waiting = new Set(s.outbox.flatMap((e) => (e.kind === 'submit' ? [String(e.order.client_order_id)] : [])));
    for (const id of ids) {
      if (waiting.has(id)) continue;
      const order = await this.actions.order(s, id);
      // Not in the outbox and never stored: it was refused before it became an order, and that answer
      // was lost with a crash before it was written. Refused it stays.
      if (!order) this.#deliver(s, refusalOf(id, new AppError('NOT_FOUND', `The order ${id} was never placed.`), now), deliver);
      else await this.#deliverOrder(s, order, now, deliver);
    }
  }

  /**
   * Sends the outbox as it stood when called; what the answers make the executors ask for waits for the
   * next call. Returns how many entries were taken out (0 when the first one must wait for a retry).
   */
  async flush(s: OrderSender, now: number, deliver: Deliver): Promise<number> {
    const sending = s.outbox.length;
    for (let i = 0; i < sending; i++) {
      const entry = s.outbox[0]!;
      const requestId = `${s.kind}:${s.id}:${entry.kind === 'submit' ? String(entry.order.client_order_id) : `cancel:${entry.client_order_id}`}`;
      let failure: AppError | null = null;
      try {
        if (entry.kind === 'submit') await this.actions.place(s, entry.order, requestId);
        else await this.actions.cancel(s, entry.client_order_id, requestId);
      } catch (err) {
        failure = toAppError(err);
        if (RETRY_CODES.has(failure.code)) {
          s.runtime.last_error = failure.message;
          return i;
        }
      }
      s.outbox.shift();
      // A cancel of an order that does not exist (its submit was refused, so it was never stored) has
      // nothing left to do: it is not an error, and it must not hide the refusal that explains the end.
      if (failure && !(entry.kind === 'cancel' && failure.code === 'NOT_FOUND')) {
        s.runtime.error_count++;
        s.runtime.last_error = failure.message;
      }
      // A cancel's outcome is read back by the next poll; a refused one is told to the executor now (it may try again or give up).
      if (entry.kind === 'cancel') {
        if (failure) await this.#cancelRefused(s, entry.client_order_id, failure, now, deliver);
        continue;
      }
      const clientId = String(entry.order.client_order_id);
      const order = await this.actions.order(s, clientId);
      if (order) await this.#deliverOrder(s, order, now, deliver, failure ? rejectionCode(failure.code, failure.details?.reason) : undefined);
      else this.#deliver(s, refusalOf(clientId, failure ?? new AppError('INTERNAL', 'The order was accepted but cannot be found.'), now), deliver);
    }
    return sending;
  }

  /**
   * A cancel refused for good (a guardrail, a removed creator, the exchange): when the order still works,
   * its executor is told so with its current state, `cancelRefused` and the reason; when it has ended
   * meanwhile, the next poll delivers that.
   */
  async #cancelRefused(s: OrderSender, clientId: string, failure: AppError, now: number, deliver: Deliver): Promise<void> {
    const order = await this.actions.order(s, clientId);
    if (!order) return;
    const fills = await this.actions.fills(s, order);
    const update = updateOf(order, fills, s.runtime.fills_seen[order.clientOrderId] ?? 0, now);
    if (update.state !== 'open' && update.state !== 'partially_filled') return;
    s.runtime.fills_seen[order.clientOrderId] = fills.length;
    this.#deliver(s, { ...update, cancelRefused: true, code: failure.code, reason: failure.message }, deliver);
  }

  async #deliverOrder(s: OrderSender, order: StoredOrder, now: number, deliver: Deliver, code?: string): Promise<void> {
    const fills = await this.actions.fills(s, order);
    const update = updateOf(order, fills, s.runtime.fills_seen[order.clientOrderId] ?? 0, now);
    if (code && update.state === 'rejected') update.code = code;
    if (s.runtime.last_seen[update.clientOrderId] === seenKey(update)) return;
    s.runtime.fills_seen[update.clientOrderId] = fills.length;
    this.#deliver(s, update, deliver);
  }

  #deliver(s: OrderSender, update: OrderUpdate, deliver: Deliver): void {
    deliver(update);
    if (update.state === 'filled' || update.state === 'canceled' || update.state === 'rejected') {
      delete s.runtime.fills_seen[update.clientOrderId];
      delete s.runtime.last_seen[update.clientOrderId];
    } else {
      s.runtime.last_seen[update.clientOrderId] = seenKey(update);
    }
  }
}

/** An order request as stored in the outbox and sent to trading_place_order (decimals as strings). */
function wireOrder(o: OrderRequest): Record<string, unknown> {
  const w: Record<string, unknown> = {
    client_order_id: o.clientOrderId,
    connector_name: o.connector,
    trading_pair: o.tradingPair,
    side: o.side,
    order_type: o.type,
    amount: o.amount.toString(),
  };
  if (o.price !== undefined) w.price = o.price.toString();
  if (o.positionAction !== undefined) w.position_action = o.positionAction;
  if (o.leverage !== undefined) w.leverage = o.leverage;
  return w;
}
