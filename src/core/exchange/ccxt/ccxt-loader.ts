/**
 * ccxt takes about a second to import and another to instantiate every exchange class, so it is
 * loaded on first use and its catalogue built once; the server starts warming it in the background.
 */
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

let factsPromise: Promise<Map<string, CcxtExchangeFacts>> | undefined;

export function ccxtCatalog(): Promise<Map<string, CcxtExchangeFacts>> {
  factsPromise ??= loadCcxt().then((ccxt) => {
    const facts = new Map<string, CcxtExchangeFacts>();
    for (const id of ccxt.exchanges) {
      const Cls = (ccxt as unknown as Record<string, new (o?: object) => Record<string, unknown>>)[id];
      if (!Cls) continue;
      const ex = new Cls();
      const has = (ex.has ?? {}) as Record<string, unknown>;
      const urls = (ex.urls ?? {}) as Record<string, unknown>;
      const www = Array.isArray(urls.www) ? urls.www[0] : urls.www;
      facts.set(id, {
        id,
        name: String(ex.name ?? id),
        website: typeof www === 'string' ? www : null,
        spot: has.spot !== false,
        swap: has.swap === true,
        requiredCredentials: Object.entries((ex.requiredCredentials ?? {}) as Record<string, boolean>).filter(([, v]) => v).map(([k]) => k),
      });
    }
    return facts;
  });
  return factsPromise;
}
