import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors.js';
import type { TradeIntent } from '../trade-intent.js';
import { Decimal } from '../decimal.js';
import type { ConnectorInfo } from '../exchange/types.js';
import type { KillSwitchState } from './kill-switches.js';
import type { OrderValue } from './order-value.js';
import { pairRefusal } from './pairs.js';
import type { Policy } from './policy-store.js';

/** One limit as it applies to one order; a failed check carries the code the guard refuses with. */
export interface Check {
  name: string;
  ok: boolean;
  code: ErrorCode;
  message: string;
  limit?: string | number | null;
  value?: string | number | null;
}

/** What the checks need to know beyond the order: the journal's counts and the current position. */
export interface CheckState {
  info: ConnectorInfo;
  policy: Policy;
  killSwitches: KillSwitchState[];
  value: OrderValue | null;
  /** Why the order could not be valued, when it could not. */
  valueError?: string;
  spent24h: Decimal;
  ordersLastMinute: number;
  lastIdentical: Date | null;
  /** Signed base amount held now (perpetual position, or spot base balance). */
  positionBefore: Decimal | null;
  /** Base amount of resting orders on this order's side (closes excluded), which will add to that side when they fill. */
  restingSameSide: Decimal;
  now: number;
}

const usd = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_UP).toFixed();

/**
 * Every limit, in the order a refusal is reported. Risk-reducing intents (closes, reduce-only orders)
 * skip the caps, the rate, the duplicate window and the kill switch; the trading mode still keeps a
 * paper account off real exchanges, and the pair lists still bound what the agent may touch.
 */
export function evaluate(t: TradeIntent, s: CheckState): Check[] {
  const p = s.policy;
  const checks: Check[] = [];
  const live = s.info.kind === 'exchange';
  const increasing = !t.reducing;
  const add = (c: Check) => checks.push(c);

  if (increasing) {
    add({ name: 'mode', ok: p.mode !== 'disabled', code: 'POLICY_DENIED', message: p.mode === 'disabled' ? `trading is disabled for ${t.account}` : `${t.account} is in ${p.mode} mode`, value: p.mode });
  }
  if (live) {
    // Checked against what the connector is, not what the caller calls it: a live exchange needs live mode.
    add({ name: 'live_mode', ok: p.mode === 'live' || (t.reducing && p.mode === 'disabled'), code: 'POLICY_DENIED', message: `${t.connector} is a live exchange (real funds) and ${t.account} is in ${p.mode} mode`, value: p.mode });
  }
  if (increasing) {
    const ks = s.killSwitches[0];
    // The reason is another principal's free text: the message points to it rather than quoting it.
    add({ name: 'kill_switch', ok: !ks, code: 'KILL_SWITCH_ACTIVE', message: ks ? `the ${ks.scope === 'global' ? 'global' : `${t.account}`} kill switch is on since ${ks.set_at.toISOString()}; safety_get_status shows who set it and why` : 'no kill switch is on' });
  }
  const pairWhy = pairRefusal(t.pair, p.allowed_pairs, p.denied_pairs);
  add({ name: 'pairs', ok: !pairWhy, code: 'POLICY_DENIED', message: pairWhy ?? `${t.pair} is allowed` });
  if (t.leverage !== undefined && p.max_leverage !== null) {
    add({ name: 'max_leverage', ok: t.leverage <= p.max_leverage, code: 'RISK_LIMIT_EXCEEDED', message: `leverage ${t.leverage}x against a limit of ${p.max_leverage}x`, limit: p.max_leverage, value: t.leverage });
  }
  if (t.kind !== 'order' || !increasing) return checks;

  const n = s.value?.notional_usdt ?? null;
  const needsValue = p.max_order_notional !== null || p.max_daily_notional !== null || p.max_position_notional !== null || p.confirm_above_notional !== null;
  if (needsValue) {
    add({ name: 'valuation', ok: n !== null, code: 'RISK_LIMIT_EXCEEDED', message: n !== null ? `valued at ${usd(n)} USDT` : `the order cannot be valued in USDT (${s.valueError ?? 'no price for its quote asset'}), and this account has notional limits` });
  }
  if (n !== null && p.max_order_notional !== null) {
    add({ name: 'max_order_notional', ok: n.lte(p.max_order_notional), code: 'RISK_LIMIT_EXCEEDED', message: `order value ${usd(n)} USDT against a per-order cap of ${p.max_order_notional.toFixed()} USDT`, limit: p.max_order_notional.toFixed(), value: usd(n) });
  }
  if (n !== null && p.max_daily_notional !== null) {
    const after = s.spent24h.plus(n);
    add({
      name: 'max_daily_notional',
      ok: after.lte(p.max_daily_notional),
      code: 'RISK_LIMIT_EXCEEDED',
      message: `${usd(s.spent24h)} USDT traded in the last 24 h plus this order's ${usd(n)} USDT against a 24 h cap of ${p.max_daily_notional.toFixed()} USDT`,
      limit: p.max_daily_notional.toFixed(),
      value: usd(after),
    });
  }
  if (s.value && p.max_position_notional !== null && s.positionBefore !== null && t.amount) {
    // The position on this order's side (negative when the order first reduces the other side).
    const sameSide = s.positionBefore.times(t.side === 'sell' ? -1 : 1);
    const amount = new Decimal(t.amount);
    // The most this side can reach once every resting order on it fills. A market order fills now,
    // against the position as it is; an order that may rest can fill after the position was closed by
    // something else, so its worst case starts from no position on the other side. (The engine checks
    // the cap again when a resting order fills; this refuses what could only fill partly at best.)
    const before = Decimal.max(sameSide, 0).plus(s.restingSameSide);
    const after = (t.orderType === 'market' ? Decimal.max(sameSide.plus(amount), 0) : Decimal.max(sameSide, 0).plus(amount)).plus(s.restingSameSide);
    const toUsdt = n !== null && !s.value.notional_quote.isZero() ? n.div(s.value.notional_quote) : null;
    const afterUsdt = toUsdt ? after.times(s.value.reference_price).times(toUsdt) : null;
    // A position may always shrink, even above the cap; a spot sell cannot go below no holding.
    const grows = after.gt(before) && !(s.value.market.market_type === 'spot' && t.side === 'sell');
    add({
      name: 'max_position_notional',
      ok: !grows || (afterUsdt !== null && afterUsdt.lte(p.max_position_notional)),
      code: 'RISK_LIMIT_EXCEEDED',
      message: grows
        ? `the ${t.pair} ${t.side === 'sell' ? 'short' : 'long'} side could reach ${afterUsdt ? usd(afterUsdt) : 'an unknown amount of'} USDT (counting resting orders on that side${t.orderType === 'market' ? '' : ', and the position closed before this order fills'}) against a cap of ${p.max_position_notional.toFixed()} USDT`
        : `the order does not grow the ${t.pair} ${t.side === 'sell' ? 'short' : 'long'} side, so the cap of ${p.max_position_notional.toFixed()} USDT does not hold it back (a position may always shrink, even above the cap)`,
      limit: p.max_position_notional.toFixed(),
      value: afterUsdt ? usd(afterUsdt) : null,
    });
  }
  if (p.max_orders_per_minute !== null) {
    add({ name: 'max_orders_per_minute', ok: s.ordersLastMinute < p.max_orders_per_minute, code: 'RATE_LIMITED', message: `${s.ordersLastMinute} orders in the last minute against a limit of ${p.max_orders_per_minute}`, limit: p.max_orders_per_minute, value: s.ordersLastMinute });
  }
  if (p.duplicate_window_seconds !== null) {
    const last = s.lastIdentical;
    add({
      name: 'duplicate_window',
      ok: last === null,
      code: 'DUPLICATE_ORDER',
      message: last ? `an identical order was sent ${Math.round((s.now - last.getTime()) / 1000)} s ago, within the ${p.duplicate_window_seconds} s duplicate window` : 'no identical order in the duplicate window',
      limit: p.duplicate_window_seconds,
    });
  }
  return checks;
}

/** The order without its client id: two calls with the same fingerprint are the same order. */
export function fingerprintOf(t: TradeIntent): string {
  const canon = [t.account, t.connector, t.pair.toUpperCase(), t.side, t.orderType, t.amount ? new Decimal(t.amount).toFixed() : '', t.price ? new Decimal(t.price).toFixed() : '', t.positionAction ?? '', t.leverage ?? ''].join('|');
  return createHash('sha256').update(canon).digest('base64url').slice(0, 32);
}

/** Whether a person must confirm: above the account's threshold, for anyone but an admin. */
export function needsConfirmation(t: TradeIntent, policy: Policy, value: OrderValue | null, role: string): boolean {
  if (t.kind !== 'order' || t.reducing || role === 'admin' || policy.confirm_above_notional === null) return false;
  const n = value?.notional_usdt;
  return !n || n.gt(policy.confirm_above_notional);
}
