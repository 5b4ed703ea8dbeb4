import { z } from 'zod';
import { Decimal } from '../../decimal.js';
import { ConnectorName, PositiveDecimalIn } from '../../schema.js';
import { defineScript, type ScriptAction, type ScriptInstance, type ScriptView } from '../script.js';
import type { OrderRequest, OrderUpdate } from '../types.js';

const Asset = z.string().regex(/^[A-Z0-9]{1,20}$/, 'an asset symbol in capitals, e.g. BTC');
const Weight = PositiveDecimalIn.refine((v) => new Decimal(v).lte(1), 'must be at most 1');

export const PortfolioRebalancerConfig = z
  .strictObject({
    connector_name: ConnectorName,
    quote_asset: Asset.default('USDT').describe('The asset everything is valued in and traded against (pairs are ASSET-QUOTE).'),
    target_weights: z
      .record(Asset, Weight)
      .refine((w) => Object.keys(w).length >= 1 && Object.keys(w).length <= 20, 'name 1 to 20 assets')
      .refine((w) => Object.values(w).reduce((s, v) => s.plus(v), new Decimal(0)).lte(1), 'the weights must add up to 1 or less (the quote asset holds the rest)')
      .describe('Target share of the portfolio value per asset other than the quote asset, e.g. {"BTC": "0.5", "ETH": "0.3"}; the quote asset holds the rest (0.2).'),
    threshold: z.number().finite().gt(0).lt(1).default(0.05).describe('Rebalance when an asset\'s share is further than this from its target (0.05 = 5 percentage points).'),
    min_order_quote: PositiveDecimalIn.default('10').describe('Smallest order, in quote: smaller differences are left alone.'),
    check_interval: z.number().int().min(1).max(86_400).default(60).describe('Seconds between two checks.'),
  })
  .refine((c) => !(c.quote_asset in c.target_weights), { message: 'the quote asset takes the remaining weight: do not list it', path: ['target_weights'] });
export type PortfolioRebalancerConfig = z.infer<typeof PortfolioRebalancerConfig>;

const AMOUNT_DP = 12;
const ZERO = new Decimal(0);

interface RebalancerState {
  /** Orders placed and not final: no new decision is made until they are, since balances are moving. */
  pending: string[];
}

export interface Holding {
  asset: string;
  amount: Decimal;
  /** In quote, at the mid. */
  value: Decimal;
  weight: Decimal;
  target: Decimal;
}

/**
 * The portfolio as the rebalancer sees it: each asset valued at its pair's mid in the quote asset, with
 * its current and target share. Null when some asset has no price (nothing is decided blind) or the
 * portfolio is worth nothing.
 */
export function holdings(c: PortfolioRebalancerConfig, view: Pick<ScriptView, 'market' | 'balances'>): { total: Decimal; rows: Holding[]; mids: Map<string, Decimal> } | null {
  const balances = view.balances(c.connector_name);
  const assets = Object.keys(c.target_weights).sort();
  const mids = new Map<string, Decimal>();
  let total = new Decimal(balances[c.quote_asset] ?? ZERO);
  const values = new Map<string, Decimal>();
  for (const a of assets) {
    const q = view.market.quote(c.connector_name, `${a}-${c.quote_asset}`);
    if (!q || q.mid.lte(0)) return null;
    mids.set(a, q.mid);
    const v = new Decimal(balances[a] ?? ZERO).mul(q.mid);
    values.set(a, v);
    total = total.plus(v);
  }
  if (total.lte(0)) return null;
  const quoteTarget = assets.reduce((s, a) => s.minus(c.target_weights[a]!), new Decimal(1));
  const quoteAmount = new Decimal(balances[c.quote_asset] ?? ZERO);
  const rows: Holding[] = assets.map((a) => ({ asset: a, amount: new Decimal(balances[a] ?? ZERO), value: values.get(a)!, weight: values.get(a)!.div(total), target: new Decimal(c.target_weights[a]!) }));
  rows.push({ asset: c.quote_asset, amount: quoteAmount, value: quoteAmount, weight: quoteAmount.div(total), target: quoteTarget });
  return { total, rows, mids };
}

/**
 * Holds a portfolio at target weights on one connector. When any asset's share (the quote asset's
 * included) drifts further than `threshold` from its target, it first sells what is over its target,
 * then, once those sells are final and the quote is in hand, buys what is under, each with a market
 * order of at least `min_order_quote`. Selling first means a buy never waits on quote that a sell has not
 * yet freed; buys are capped by the quote balance.
 */
export const portfolioRebalancerV1 = defineScript({
  name: 'portfolio_rebalancer_v1',
  description:
    'Keeps a spot portfolio on one connector at target weights (e.g. 50% BTC, 30% ETH, the rest USDT): when a share drifts past a threshold it sells what is overweight, then buys what is underweight, with market orders. Runs until stopped.',
  config: PortfolioRebalancerConfig,
  example: { connector_name: 'sim', target_weights: { BTC: '0.5', ETH: '0.3' } },
  data: (c) => ({ candles: [], quotes: Object.keys(c.target_weights).sort().map((a) => ({ connector: c.connector_name, tradingPair: `${a}-${c.quote_asset}` })) }),
  stepSeconds: (c) => c.check_interval,
  create: (c, saved) => new Rebalancer(c, saved as RebalancerState | undefined),
});

class Rebalancer implements ScriptInstance {
  readonly #c: PortfolioRebalancerConfig;
  readonly #min: Decimal;
  #s: RebalancerState;

  constructor(c: PortfolioRebalancerConfig, saved?: RebalancerState) {
    this.#c = c;
    this.#min = new Decimal(c.min_order_quote);
    this.#s = saved ? structuredClone(saved) : { pending: [] };
  }

  step(view: ScriptView): ScriptAction[] {
    if (this.#s.pending.length > 0) return [];
    const h = holdings(this.#c, view);
    if (!h) return [];
    const drift = h.rows.reduce((m, r) => Decimal.max(m, r.weight.minus(r.target).abs()), ZERO);
    if (drift.lte(this.#c.threshold)) return [];
    const orders: Array<Omit<OrderRequest, 'clientOrderId'>> = [];
    const assets = h.rows.filter((r) => r.asset !== this.#c.quote_asset);
    for (const r of assets) {
      const excess = r.value.minus(r.target.mul(h.total));
      if (excess.lt(this.#min)) continue;
      const amount = Decimal.min(excess.div(h.mids.get(r.asset)!), r.amount).toDecimalPlaces(AMOUNT_DP, Decimal.ROUND_DOWN);
      if (amount.gt(0)) orders.push(this.#order(r.asset, 'sell', amount));
    }
    if (orders.length === 0) {
      let quoteLeft = h.rows.find((r) => r.asset === this.#c.quote_asset)!.amount;
      for (const r of assets) {
        const spend = Decimal.min(r.target.mul(h.total).minus(r.value), quoteLeft);
        if (spend.lt(this.#min)) continue;
        const amount = spend.div(h.mids.get(r.asset)!).toDecimalPlaces(AMOUNT_DP, Decimal.ROUND_DOWN);
        if (amount.lte(0)) continue;
        quoteLeft = quoteLeft.minus(spend);
        orders.push(this.#order(r.asset, 'buy', amount));
      }
    }
    return orders.map((o) => {
      const clientOrderId = view.newOrderId();
      this.#s.pending.push(clientOrderId);
      return { kind: 'place', order: { ...o, clientOrderId } };
    });
  }

  #order(asset: string, side: 'buy' | 'sell', amount: Decimal): Omit<OrderRequest, 'clientOrderId'> {
    return { connector: this.#c.connector_name, tradingPair: `${asset}-${this.#c.quote_asset}`, side, type: 'market', amount };
  }

  onOrderUpdate(u: OrderUpdate): void {
    if (u.state === 'filled' || u.state === 'canceled' || u.state === 'rejected') this.#s.pending = this.#s.pending.filter((id) => id !== u.clientOrderId);
  }

  done(): boolean {
    return false;
  }

  state(): Record<string, unknown> {
    return structuredClone(this.#s) as unknown as Record<string, unknown>;
  }
}
