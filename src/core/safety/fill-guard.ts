import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { Decimal } from '../decimal.js';
import type { Connectors } from '../exchange/connectors.js';
import type { Logger } from '../logger.js';
import type { Valuation } from '../portfolio/valuation.js';
import type { FillGuard, FillRequest, FillVerdict } from '../trading/fill-guard.js';
import { floorTo } from '../trading/matching/quantize.js';
import { KillSwitches } from './kill-switches.js';
import { pairRefusal } from './pairs.js';
import { PolicyStore } from './policy-store.js';

const ZERO = new Decimal(0);

/**
 * The limits that depend on state which can change between placing an order and its fill: trading
 * mode, kill switches, pair lists, leverage and position caps. A resting order passed them when it was
 * placed; this checks them again at the moment it fills, so an order cannot wait for the position to
 * be closed (or the policy to change) and then fill past a cap. The caps on one order's value, the 24 h
 * budget, the rate and the duplicate window were spent when it was placed and are not counted twice.
 */
export class PolicyFillGuard implements FillGuard {
  constructor(
    private readonly connectors: Connectors,
    private readonly valuation: Valuation,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  async usdtPer(connector: string, quote: string): Promise<Decimal | null> {
    const info = await this.connectors.info(connector);
    return this.valuation.price(info.kind === 'exchange' ? connector : 'sim', quote, 'USDT');
  }

  async check(tx: Db, r: FillRequest): Promise<FillVerdict> {
    const verdict = await this.#verdict(tx, r);
    if (verdict.cancel) {
      this.logger.warn('resting order stopped at fill time', {
        order_id: r.order.id,
        account_name: r.order.accountName,
        guard: verdict.cancel.guard,
        reason: verdict.cancel.reason,
        filled_now: verdict.amount.toFixed(),
      });
    }
    return verdict;
  }

  async #verdict(tx: Db, r: FillRequest): Promise<FillVerdict> {
    const { order } = r;
    const account = order.accountName;
    const [policy, switches] = await Promise.all([new PolicyStore(tx, this.clock).get(account), new KillSwitches(tx, this.clock).activeFor(account)]);
    const none = (guard: string, reason: string): FillVerdict => ({ amount: ZERO, cancel: { guard, reason } });
    if (policy.mode === 'disabled') return none('mode', `trading is disabled for ${account}`);
    if ((await this.connectors.info(order.connectorName)).kind === 'exchange' && policy.mode !== 'live') {
      return none('live_mode', `${order.connectorName} is a live exchange and ${account} is in ${policy.mode} mode`);
    }
    const ks = switches[0];
    if (ks) return none('kill_switch', `the ${ks.scope === 'global' ? 'global' : account} kill switch is on (${ks.reason})`);
    const pairWhy = pairRefusal(order.tradingPair, policy.allowed_pairs, policy.denied_pairs);
    if (pairWhy) return none('pairs', pairWhy);
    if (r.marketType === 'perpetual' && r.leverage !== null && policy.max_leverage !== null && r.leverage > policy.max_leverage) {
      return none('max_leverage', `it would trade at ${r.leverage}x against a limit of ${policy.max_leverage}x`);
    }
    const cap = policy.max_position_notional;
    // A spot sell cannot take the holding below zero (the engine holds the base back), so it never grows it.
    if (cap === null || r.position === null || (r.marketType === 'spot' && order.side === 'sell')) return { amount: r.amount };
    // Not valued now: nothing fills this round, and the order keeps waiting rather than being canceled for an outage.
    if (!r.usdtPerQuote || r.usdtPerQuote.isZero() || r.price.isZero()) return { amount: ZERO };
    const capBase = cap.div(r.price.times(r.usdtPerQuote));
    // The position on this order's side (negative when the order first reduces the other side): the
    // order may fill up to where that side reaches the cap.
    const sameSide = order.side === 'buy' ? r.position : r.position.neg();
    const room = floorTo(Decimal.max(capBase.minus(sameSide), ZERO), r.market.rules.min_base_amount_increment);
    if (room.gte(r.amount)) return { amount: r.amount };
    const worth = sameSide.plus(r.amount).times(r.price).times(r.usdtPerQuote).toDecimalPlaces(2, Decimal.ROUND_UP);
    return {
      amount: room,
      cancel: { guard: 'max_position_notional', reason: `filling ${r.amount.toFixed()} more would make the ${order.tradingPair} position worth ${worth.toFixed()} USDT against a cap of ${cap.toFixed()} USDT` },
    };
  }
}
