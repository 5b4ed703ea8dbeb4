import { readFileSync } from 'node:fs';

/** ccxt takes about a second and 100 MB to import, so it is loaded only when an exchange is contacted. */
export type CcxtModule = typeof import('ccxt').default;

let modulePromise: Promise<CcxtModule> | undefined;

export function loadCcxt(): Promise<CcxtModule> {
  modulePromise ??= import('ccxt').then((m) => m.default);
  return modulePromise;
}

export interface CcxtExchangeFacts {
  id: string;
  name: string;
  website: string | null;
  spot: boolean;
  swap: boolean;
  requiredCredentials: string[];
}

const CATALOG_FILE = new URL('./catalog.json', import.meta.url);
let catalog: Map<string, CcxtExchangeFacts> | undefined;

/** The exchanges ccxt offers, from the committed catalogue (scripts/ccxt-catalog.mjs), without loading ccxt. */
export function ccxtCatalog(): Map<string, CcxtExchangeFacts> {
  if (!catalog) {
    const { exchanges } = JSON.parse(readFileSync(CATALOG_FILE, 'utf8')) as { exchanges: CcxtExchangeFacts[] };
    catalog = new Map(exchanges.map((e) => [e.id, e]));
  }
  return catalog;
}

export function ccxtCatalogVersion(): string {
  return (JSON.parse(readFileSync(CATALOG_FILE, 'utf8')) as { ccxt_version: string }).ccxt_version;
}
