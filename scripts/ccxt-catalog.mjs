// Regenerates src/core/exchange/ccxt/catalog.json from the installed ccxt: one entry per exchange with
// the facts the connector list needs. Committed, so listing connectors never loads ccxt (about a
// second and 100 MB); a test fails when ccxt is upgraded without running `npm run ccxt:catalog`.
import { writeFileSync } from 'node:fs';

const { default: ccxt } = await import('ccxt');
const exchanges = [];
for (const id of ccxt.exchanges) {
  const ex = new ccxt[id]();
  const www = Array.isArray(ex.urls?.www) ? ex.urls.www[0] : ex.urls?.www;
  exchanges.push({
    id,
    name: String(ex.name ?? id),
    website: typeof www === 'string' ? www : null,
    spot: ex.has?.spot !== false,
    swap: ex.has?.swap === true,
    requiredCredentials: Object.entries(ex.requiredCredentials ?? {}).filter(([, v]) => v).map(([k]) => k),
  });
}
const out = new URL('../src/core/exchange/ccxt/catalog.json', import.meta.url);
writeFileSync(out, JSON.stringify({ ccxt_version: ccxt.version, exchanges }, null, 1) + '\n');
console.error(`wrote ${exchanges.length} exchanges (ccxt ${ccxt.version})`);
