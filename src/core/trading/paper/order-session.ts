import type { Queryable } from '../../db/sql-runner.js';
import type { OrderPlan } from '../order-plan.js';
import type { Ledger } from './ledger-state.js';

/**
 * A paper order between the guard and the handler: the open transaction (the account lock is its first
 * statement), the plan made before the lock and the ledger read after it. The guard checks the order
 * against the same snapshot the engine then fills it from, so nothing is fetched twice.
 */
export interface OrderSession {
  q: Queryable;
  plan: OrderPlan;
  ledger: Ledger;
}

/** Keyed by the call's context object: a session lives exactly as long as the call that opened it. */
const sessions = new WeakMap<object, OrderSession>();

export function attachSession(ctx: object, session: OrderSession): void {
  sessions.set(ctx, session);
}

export function sessionOf(ctx: object): OrderSession | undefined {
  return sessions.get(ctx);
}

/** The session's transaction ended without the handler (the guard took another path): it must not be used. */
export function detachSession(ctx: object): void {
  sessions.delete(ctx);
}
