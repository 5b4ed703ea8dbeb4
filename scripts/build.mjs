// Transpiles src/ to dist/ (no bundling, no type check: `npm run typecheck` does that) and copies the
// SQL migrations beside the code that applies them. Fast enough to run before every start.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const out = join(root, 'dist');

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: tsFiles(src),
  outdir: out,
  outbase: src,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
cpSync(join(src, 'core/db/migrations'), join(out, 'core/db/migrations'), { recursive: true });
cpSync(join(src, 'core/exchange/ccxt/catalog.json'), join(out, 'core/exchange/ccxt/catalog.json'));
