import { AppError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { CcxtConnector, CCXT_CREDENTIAL_FIELDS, DEFAULT_CCXT_OPTIONS, type CcxtOptions } from './ccxt/ccxt-connector.js';
import { ccxtCatalog, type CcxtExchangeFacts } from './ccxt/ccxt-loader.js';
import { SIM_CONNECTORS, SimConnector, simInfo } from './sim/sim-connector.js';
import { SimExchange } from './sim/sim-exchange.js';
import type { ConnectorInfo, CredentialField, ExchangeConnector } from './types.js';

const PAPER_SUFFIX = '_paper_trade';
const PERP_SUFFIX = '_perpetual';

const FIELD_OF_CCXT = Object.fromEntries(Object.entries(CCXT_CREDENTIAL_FIELDS).map(([ours, theirs]) => [theirs, ours])) as Record<string, CredentialField>;

/**
 * Names every connector and hands out one ExchangeConnector per name. Naming follows Hummingbot:
 * `<exchange>` (spot), `<exchange>_perpetual` (swap markets), `<connector>_paper_trade` (our paper
 * engine over that exchange's public data), plus the built-in `sim` and `sim_perpetual`.
 */
export class Connectors {
  readonly #instances = new Map<string, ExchangeConnector>();

  readonly sim: SimExchange;

  constructor(
    private readonly ccxtOptions: (exchange: string) => CcxtOptions = () => DEFAULT_CCXT_OPTIONS,
    sim: SimExchange = new SimExchange(),
    private readonly clock: Clock = systemClock,
  ) {
    this.sim = sim;
  }

  async list(): Promise<ConnectorInfo[]> {
    const out: ConnectorInfo[] = SIM_CONNECTORS.map((n) => simInfo(n)!);
    const facts = ccxtCatalog();
    for (const f of facts.values()) {
      const live: ConnectorInfo[] = [];
      if (f.spot) live.push(ccxtInfo(f, false));
      if (f.swap) live.push(ccxtInfo(f, true));
      for (const l of live) out.push(l, paperInfo(l));
    }
    return out;
  }

  /** Describes a connector, or NOT_FOUND with the closest names as a hint. */
  async info(name: string): Promise<ConnectorInfo> {
    const sim = simInfo(name);
    if (sim) return sim;
    const paper = name.endsWith(PAPER_SUFFIX);
    const liveName = paper ? name.slice(0, -PAPER_SUFFIX.length) : name;
    const perp = liveName.endsWith(PERP_SUFFIX);
    const exchange = perp ? liveName.slice(0, -PERP_SUFFIX.length) : liveName;
    const facts = ccxtCatalog();
    const f = facts.get(exchange);
    if (f && (perp ? f.swap : f.spot)) {
      const live = ccxtInfo(f, perp);
      return paper ? paperInfo(live) : live;
    }
    const close = [...SIM_CONNECTORS, ...facts.keys()].filter((n) => n.includes(exchange.slice(0, 4)) || exchange.includes(n)).slice(0, 5);
    throw new AppError('NOT_FOUND', `There is no connector named ${name}.`, {
      hint: close.length ? `Did you mean ${close.join(', ')}? GET /connectors lists them all.` : 'GET /connectors lists every connector; "sim" works offline.',
      details: { connector_name: name },
    });
  }

  /** The connector serving market data for `name` (a paper connector reads its exchange's data). */
  async get(name: string): Promise<ExchangeConnector> {
    const info = await this.info(name);
    const key = info.kind === 'paper' ? info.name.slice(0, -PAPER_SUFFIX.length) : info.name;
    let c = this.#instances.get(key);
    if (!c) {
      c = info.kind === 'sim' ? new SimConnector(info, this.sim) : new CcxtConnector(info.kind === 'paper' ? await this.info(key) : info, this.ccxtOptions(info.exchange), this.clock);
      this.#instances.set(key, c);
    }
    return c;
  }
}

function ccxtInfo(f: CcxtExchangeFacts, perpetual: boolean): ConnectorInfo {
  return {
    name: perpetual ? `${f.id}${PERP_SUFFIX}` : f.id,
    kind: 'exchange',
    exchange: f.id,
    market_type: perpetual ? 'perpetual' : 'spot',
    offline: false,
    requires_credentials: true,
    credential_fields: f.requiredCredentials.map((c) => FIELD_OF_CCXT[c]).filter((c): c is CredentialField => !!c),
    display_name: perpetual ? `${f.name} perpetuals` : f.name,
    website: f.website,
  };
}

function paperInfo(live: ConnectorInfo): ConnectorInfo {
  return {
    ...live,
    name: `${live.name}${PAPER_SUFFIX}`,
    kind: 'paper',
    requires_credentials: false,
    credential_fields: [],
    display_name: `${live.display_name} (paper trading)`,
  };
}
