import { AppError } from '../errors.js';
import type { Clock } from '../clock.js';
import { Decimal, midPrice } from '../decimal.js';
import type { MarketData } from '../market-data/market-data.js';

/** Assets treated as worth one unit of a USD-like quote. */
const USD_LIKE = new Set(['USD', 'USDT', 'USDC', 'BUSD', 'FDUSD', 'TUSD', 'DAI', 'USDP']);

/**
 * Prices an asset in a quote currency: 1 for the quote itself (and USD stablecoins against each other),
 * else the mid of ASSET-QUOTE on the connector, else on sim, else through USDT. Unpriceable assets are
 * returned as null and shown as such, never silently valued at 0. Prices are cached for a few seconds
 * of the injected clock: the time they are quoted at, which a pinned or simulated clock moves by jumps.
 */
export class Valuation {
  readonly #cache = new Map<string, { at: number; price: Decimal | null }>();
  static readonly TTL_MS = 5_000;

  constructor(
    private readonly marketData: MarketData,
    private readonly clock: Clock,
  ) {}

  async price(connector: string, asset: string, quote: string): Promise<Decimal | null> {
    if (asset === quote || (USD_LIKE.has(asset) && USD_LIKE.has(quote))) return new Decimal(1);
    const key = `${connector}|${asset}|${quote}`;
    const hit = this.#cache.get(key);
    if (hit && this.clock.now() - hit.at < Valuation.TTL_MS) return hit.price;
    let price = (await this.#mid(connector, `${asset}-${quote}`)) ?? (await this.#mid('sim', `${asset}-${quote}`));
    if (!price) {
      const inverse = (await this.#mid(connector, `${quote}-${asset}`)) ?? (await this.#mid('sim', `${quote}-${asset}`));
      if (inverse && !inverse.isZero()) price = new Decimal(1).div(inverse);
    }
    if (!price && quote !== 'USDT' && asset !== 'USDT') {
      const viaUsdt = await this.price(connector, asset, 'USDT');
      const usdtInQuote = await this.price(connector, 'USDT', quote);
      if (viaUsdt && usdtInQuote) price = viaUsdt.times(usdtInQuote);
    }
    this.#cache.set(key, { at: this.clock.now(), price });
    return price;
  }

  async #mid(connector: string, pair: string): Promise<Decimal | null> {
    const spot = connector.replace(/_perpetual(_paper_trade)?$/, '$1').replace(/^sim_perpetual$/, 'sim');
    try {
      const t = await this.marketData.ticker(spot, pair);
      return t.bid !== null && t.ask !== null ? midPrice(t.bid, t.ask) : new Decimal(String(t.last));
    } catch (err) {
      if (err instanceof AppError) return null;
      throw err;
    }
  }
}
