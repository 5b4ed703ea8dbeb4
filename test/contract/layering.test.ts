import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A module a source names, and whether the naming is erased at build time (`import type`, `export type`). */
interface ImportRef {
  spec: string;
  typeOnly: boolean;
}

const parse = (source: string) => ts.createSourceFile('scanned.ts', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

const refsCache = new Map<string, ImportRef[]>();

/**
 * Every module a source names, in order, read from its syntax tree (so comments and strings are not
 * imports): `import x from '…'`, `import type … from '…'`, `export … from '…'`, `import '…'` (side
 * effect), `import('…')`, `require('…')` and `import('…')` types. `import { type A } from '…'` still
 * loads the module (verbatimModuleSyntax keeps it), so only a wholly type-only clause is erased.
 */
function importRefs(source: string): ImportRef[] {
  const hit = refsCache.get(source);
  if (hit) return hit;
  const refs: ImportRef[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      refs.push({ spec: n.moduleSpecifier.text, typeOnly: ts.isImportDeclaration(n) ? (n.importClause?.isTypeOnly ?? false) : n.isTypeOnly });
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) {
      refs.push({ spec: n.moduleReference.expression.text, typeOnly: n.isTypeOnly });
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require')) && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) {
      refs.push({ spec: n.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      refs.push({ spec: n.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(n, visit);
  };
  visit(parse(source));
  refsCache.set(source, refs);
  return refs;
}

function importsOf(source: string): string[] {
  return importRefs(source).map((r) => r.spec);
}

/** `name` itself or one of its subpaths (`express`, `express/lib/x`), never a longer name (`expressive`). */
const pkg = (name: string) => (spec: string) => spec === name || spec.startsWith(`${name}/`);
const prefix = (p: string) => (spec: string) => spec.startsWith(p);

const FACE_LIBS: Record<string, (spec: string) => boolean> = {
  express: pkg('express'),
  ws: pkg('ws'),
  '@modelcontextprotocol/sdk*': prefix('@modelcontextprotocol/sdk'),
};

const BACKEND_LIBS: Record<string, (spec: string) => boolean> = {
  ccxt: pkg('ccxt'),
  pg: pkg('pg'),
  dockerode: pkg('dockerode'),
  mqtt: pkg('mqtt'),
  'drizzle-orm*': prefix('drizzle-orm'),
  '@electric-sql/pglite': pkg('@electric-sql/pglite'),
};

function violations(source: string, rules: Record<string, (spec: string) => boolean>): string[] {
  return importsOf(source).filter((spec) => Object.values(rules).some((matches) => matches(spec)));
}

/** Repository paths (posix) of the files under `dir`; none when it does not exist yet. */
function sourceFiles(dir: string, exts: RegExp): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && exts.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const TS = /\.(?:ts|mts|cts|tsx)$/;
const ANY_SOURCE = /\.(?:ts|mts|cts|tsx|js|mjs|cjs)$/;
const inner = [...sourceFiles('src/core', TS), ...sourceFiles('src/tools', TS)];
const faces = [...sourceFiles('src/rest', ANY_SOURCE), ...sourceFiles('src/mcp', ANY_SOURCE)];

describe('the import scanner (self-check: the rule can fail)', () => {
  it('finds every import form', () => {
    const snippet = [
      "import express from 'express';",
      'import type { Request } from "express";',
      "import { WebSocketServer } from 'ws';",
      "export { Server } from '@modelcontextprotocol/sdk/server/index.js';",
      "import '@modelcontextprotocol/sdk/types.js';",
      "const m = await import('ws');",
      "const n = await import ( 'drizzle-orm/pg-core' );",
      "const p = require('pg');",
      'import {',
      '  Client,',
      "} from 'pg';",
    ].join('\n');
    expect(importsOf(snippet)).toEqual(['express', 'express', 'ws', '@modelcontextprotocol/sdk/server/index.js', '@modelcontextprotocol/sdk/types.js', 'ws', 'drizzle-orm/pg-core', 'pg', 'pg']);
  });

  it('flags a face library in core code and a backend library in a face', () => {
    expect(violations("import express from 'express';\nimport { z } from 'zod';", FACE_LIBS)).toEqual(['express']);
    expect(violations("const sdk = await import('@modelcontextprotocol/sdk/server/mcp.js');", FACE_LIBS)).toHaveLength(1);
    expect(violations("import { eq } from 'drizzle-orm';\nimport pg from 'pg';\nimport { PGlite } from '@electric-sql/pglite';", BACKEND_LIBS)).toEqual(['drizzle-orm', 'pg', '@electric-sql/pglite']);
  });

  it('does not flag look-alike names or relative paths', () => {
    expect(violations("import x from 'expressive';\nimport y from 'wsx';\nimport z from './express.js';", FACE_LIBS)).toEqual([]);
    expect(violations("import a from 'pg-format';\nimport b from '../core/db/pg.js';\nimport c from 'mqtt-packet';", BACKEND_LIBS)).toEqual([]);
  });

  it('found the source files to check', () => {
    expect(inner.length).toBeGreaterThan(10);
    expect(faces.length).toBeGreaterThan(5);
    expect(inner.some((f) => f.startsWith('src/tools/'))).toBe(true);
    expect(faces.some((f) => f.startsWith('src/mcp/'))).toBe(true);
  });
});

describe('src/core and src/tools do not import express, ws or the MCP SDK', () => {
  it.each(inner)('%s', (file) => {
    expect(violations(readFileSync(join(ROOT, file), 'utf8'), FACE_LIBS)).toEqual([]);
  });
});

describe('src/rest and src/mcp do not import ccxt, pg, dockerode, mqtt, drizzle-orm or PGlite', () => {
  it.each(faces)('%s', (file) => {
    expect(violations(readFileSync(join(ROOT, file), 'utf8'), BACKEND_LIBS)).toEqual([]);
  });
});

// ---- Layering for strategies, backtests and bots (issue 9): one clock injected, pure matching, thin bots, one root ----

type Read = (path: string) => string | undefined;

const readRepo: Read = (path) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined);

/** The repository path a relative specifier names (`../x.js` is the source `../x.ts`); null for a package. */
function resolveLocal(from: string, spec: string): string | null {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return null;
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.([mc]?)js$/, '.$1ts');
}

const under = (dir: string) => (path: string | null) => path !== null && path.startsWith(`${dir}/`);

/**
 * What loading `file` loads: every runtime import of it and of the local files those reach (type-only
 * imports are erased, so they are not followed), each with the chain of files that leads to it.
 */
function runtimeImports(file: string, read: Read): Array<{ chain: string[]; spec: string; local: string | null }> {
  const out: Array<{ chain: string[]; spec: string; local: string | null }> = [];
  const seen = new Set([file]);
  const queue = [[file]];
  for (let chain = queue.shift(); chain; chain = queue.shift()) {
    const at = chain[chain.length - 1]!;
    const source = read(at);
    if (source === undefined) continue;
    for (const r of importRefs(source)) {
      if (r.typeOnly) continue;
      const local = resolveLocal(at, r.spec);
      out.push({ chain, spec: r.spec, local });
      if (local && !seen.has(local)) {
        seen.add(local);
        queue.push([...chain, local]);
      }
    }
  }
  return out;
}

const via = (chain: string[]) => (chain.length > 1 ? ` via ${chain.slice(1).join(' → ')}` : '');

/**
 * Reads of the wall clock: `Date.now` (called or passed on), `new Date()` without arguments and `Date()`.
 * Comments and strings are not code, and `new Date(x)` converts a time rather than reading one.
 * `performance.now()` is not a read either: it measures elapsed time, not the date.
 */
function clockReads(source: string): string[] {
  const sf = parse(source);
  const reads: string[] = [];
  const found = (n: ts.Node, what: string) => reads.push(`line ${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  const isDate = (e: ts.Node) => ts.isIdentifier(e) && e.text === 'Date';
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && isDate(n.expression) && n.name.text === 'now') found(n, 'Date.now');
    else if (ts.isElementAccessExpression(n) && isDate(n.expression) && ts.isStringLiteralLike(n.argumentExpression) && n.argumentExpression.text === 'now') found(n, 'Date.now');
    else if (ts.isNewExpression(n) && isDate(n.expression) && !n.arguments?.length) found(n, 'new Date()');
    else if (ts.isCallExpression(n) && isDate(n.expression)) found(n, 'Date()');
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return reads;
}

/**
 * Where domain code may still read the wall clock itself, each with its reason. Everything else takes the
 * injected Clock (src/core/clock.ts). An entry that no longer reads the clock must be removed.
 */
const CLOCK_ALLOWED: Record<string, string> = {
  'src/core/logger.ts': 'log lines are stamped in wall time: an operator reads them against the wall, whatever clock the domain runs on',
  'src/core/db/client.ts': 'infrastructure: it rate-limits its own connection-loss log lines, a transport concern, not domain time',
  'src/core/data-dir-lock.ts': 'infrastructure: the lock file records when this process took the data directory, for an operator',
  'src/core/db/embedded-postgres.ts': 'infrastructure: start deadlines and the age of a start lock of the embedded server process, not domain time',
};
const CLOCK_FILE = 'src/core/clock.ts';

/** Libraries that do IO or speak a transport: none of them belongs in a pure module. */
const node = (name: string) => (spec: string) => [name, `node:${name}`].some((b) => spec === b || spec.startsWith(`${b}/`));
const IO_LIBS: Record<string, (spec: string) => boolean> = {
  'drizzle-orm*': prefix('drizzle-orm'),
  pg: pkg('pg'),
  '@electric-sql/pglite': pkg('@electric-sql/pglite'),
  'embedded-postgres': pkg('embedded-postgres'),
  'node:fs': node('fs'),
  'node:net': node('net'),
  'node:http': node('http'),
  'node:https': node('https'),
  'node:http2': node('http2'),
  'node:child_process': node('child_process'),
  ws: pkg('ws'),
  mqtt: pkg('mqtt'),
  ccxt: pkg('ccxt'),
  express: pkg('express'),
  dockerode: pkg('dockerode'),
  '@modelcontextprotocol/sdk*': prefix('@modelcontextprotocol/sdk'),
};
const DB_LIBS: Record<string, (spec: string) => boolean> = {
  'drizzle-orm*': prefix('drizzle-orm'),
  pg: pkg('pg'),
  '@electric-sql/pglite': pkg('@electric-sql/pglite'),
  'embedded-postgres': pkg('embedded-postgres'),
};
const matchesAny = (spec: string, libs: Record<string, (spec: string) => boolean>) => Object.values(libs).some((m) => m(spec));
const inDb = under('src/core/db');
/** The secrets module, less the redactor (which keeps secrets OUT of text, and which the logger uses). */
const inSecrets = (path: string | null) => under('src/core/secrets')(path) && path !== 'src/core/secrets/redact.ts';

/**
 * Matching and strategies are pure: no db, IO or transport, neither imported nor loaded through another
 * module. Nothing from src/core/db either, not even a type (they work on values, not rows).
 */
function pureViolations(file: string, read: Read): string[] {
  const direct = importRefs(read(file) ?? '')
    .filter((r) => matchesAny(r.spec, IO_LIBS) || inDb(resolveLocal(file, r.spec)))
    .map((r) => r.spec);
  const loaded = runtimeImports(file, read)
    .filter((x) => x.chain.length > 1 && matchesAny(x.spec, IO_LIBS))
    .map((x) => `${x.spec}${via(x.chain)}`);
  return [...direct, ...loaded];
}

/** The bot process reaches the server over MQTT only: it neither imports nor loads the database or the secrets. */
function botViolations(file: string, read: Read): string[] {
  const direct = importRefs(read(file) ?? '')
    .filter((r) => matchesAny(r.spec, DB_LIBS) || inDb(resolveLocal(file, r.spec)) || inSecrets(resolveLocal(file, r.spec)))
    .map((r) => r.spec);
  const loaded = runtimeImports(file, read)
    .filter((x) => x.chain.length > 1 && (matchesAny(x.spec, DB_LIBS) || inSecrets(x.local)))
    .map((x) => `${x.spec}${via(x.chain)}`);
  return [...direct, ...loaded];
}

/**
 * The composition root (src/app) wires every module; nothing else imports it but the entry points that
 * parse arguments and call it (src/main.ts, src/cli.ts). The faces are handed the modules by the root and
 * type them as `CommandServices` (command/types.ts, widened by the root), never by importing the root.
 */
const isRoot = (path: string | null) => path === 'src/main.ts' || path === 'src/cli.ts' || under('src/app')(path);

function rootViolations(file: string, source: string): string[] {
  if (isRoot(file)) return [];
  return importRefs(source)
    .filter((r) => {
      const local = resolveLocal(file, r.spec);
      return isRoot(local);
    })
    .map((r) => r.spec);
}

const fromSamples = (files: Record<string, string>): Read => (path) => files[path];

describe('the layering checkers (self-check: each rule can fail)', () => {
  it('reads imports from the syntax, with what is type-only', () => {
    const snippet = [
      "// import x from 'pg';",
      "const s = \"import y from 'ccxt'\";",
      "import type { Db } from './db/client.js';",
      "import { type A, b } from './a.js';",
      "export type { T } from './t.js';",
      "let x: import('./types.js').Market;",
    ].join('\n');
    expect(importRefs(snippet)).toEqual([
      { spec: './db/client.js', typeOnly: true },
      { spec: './a.js', typeOnly: false },
      { spec: './t.js', typeOnly: true },
      { spec: './types.js', typeOnly: true },
    ]);
    expect(resolveLocal('src/core/command/types.ts', '../services.js')).toBe('src/core/services.ts');
    expect(resolveLocal('src/core/command/types.ts', 'zod')).toBeNull();
  });

  it('finds reads of the clock, and not in comments, strings, conversions or durations', () => {
    const source = [
      '// Date.now() and new Date() in a comment',
      "const a = 'Date.now()', b = \"new Date()\";",
      'const c = new Date(ts), d = new Date(row.at).toISOString(), e = Date.UTC(2026, 0, 1), f = performance.now();',
      'const g = /new Date\\(\\)/;',
      'const t0 = Date.now();',
      'const now: () => number = Date.now;',
      'const stamp = `at ${new Date().toISOString()}`;',
      'const ago = new Date(Date.now() - 1000);',
      'const bare = new Date;',
      'const text = Date();',
      "const bracket = Date['now']();",
    ].join('\n');
    expect(clockReads(source)).toEqual(['line 5: Date.now', 'line 6: Date.now', 'line 7: new Date()', 'line 8: Date.now', 'line 9: new Date()', 'line 10: Date()', 'line 11: Date.now']);
  });

  it('flags db, IO and transport in a pure module, directly or through what it loads, but not through a type', () => {
    const read = fromSamples({
      'src/core/trading/matching/fill.ts': [
        "import { Decimal } from '../../decimal.js';",
        "import { book } from './book.js';",
        "import type { Db } from '../../db/client.js';",
        "import type { Row } from './rows.js';",
      ].join('\n'),
      'src/core/trading/matching/book.ts': "import { level } from './level.js';\nexport const book = level;",
      'src/core/trading/matching/level.ts': "import { readFileSync } from 'node:fs';\nexport const level = 1;",
      'src/core/trading/matching/rows.ts': "import { pgTable } from 'drizzle-orm/pg-core';",
      'src/core/decimal.ts': "import { Decimal } from 'decimal.js';",
      'src/core/strategy/clean.ts': "import { Decimal } from '../decimal.js';\nimport type { Market } from '../exchange/types.js';",
    });
    expect(pureViolations('src/core/trading/matching/fill.ts', read)).toEqual([
      '../../db/client.js',
      'node:fs via src/core/trading/matching/book.ts → src/core/trading/matching/level.ts',
    ]);
    expect(pureViolations('src/core/strategy/clean.ts', read)).toEqual([]);
    expect(pureViolations('src/core/strategy/x.ts', fromSamples({ 'src/core/strategy/x.ts': "import WebSocket from 'ws';\nimport mqtt from 'mqtt';\nconst c = await import('ccxt');" }))).toEqual(['ws', 'mqtt', 'ccxt']);
  });

  it('flags the database and the vault in the bot, but lets it log (the logger loads the redactor)', () => {
    const read = fromSamples({
      'src/bot/main.ts': [
        "import { createLogger } from '../core/logger.js';",
        "import { runner } from './runner.js';",
        "import type { Vault } from '../core/secrets/vault.js';",
      ].join('\n'),
      'src/bot/runner.ts': "import { Pool } from 'pg';\nexport const runner = 1;",
      'src/core/logger.ts': "import { redactText } from './secrets/redact.js';",
      'src/core/secrets/redact.ts': '',
      'src/bot/keys.ts': "import { loadVaultKey } from '../core/secrets/vault.js';\nimport { eq } from 'drizzle-orm';",
    });
    expect(botViolations('src/bot/main.ts', read)).toEqual(['../core/secrets/vault.js', 'pg via src/bot/runner.ts']);
    expect(botViolations('src/bot/keys.ts', read)).toEqual(['../core/secrets/vault.js', 'drizzle-orm']);
  });

  it('flags imports of the composition root and of the bag of services outside the root', () => {
    expect(rootViolations('src/core/command/types.ts', "import type { Services } from '../../app/services.js';")).toEqual(['../../app/services.js']);
    expect(rootViolations('src/tools/x/y.ts', "import { startServer } from '../../cli.js';")).toEqual(['../../cli.js']);
    expect(rootViolations('src/bot/main.ts', "import { createServices } from '../app/services.js';")).toEqual(['../app/services.js']);
    expect(rootViolations('src/rest/app.ts', "import type { Services } from '../app/services.js';")).toEqual(['../app/services.js']);
    expect(rootViolations('src/rest/app.ts', "import type { CommandServices } from '../core/command/types.js';\nimport { x } from '../app/wire.js';")).toEqual(['../app/wire.js']);
    expect(rootViolations('src/app/wire.ts', "import { createServices } from './services.js';")).toEqual([]);
    expect(rootViolations('src/cli.ts', "import { startServer } from './app/server.js';")).toEqual([]);
  });
});

const clockScoped = [...sourceFiles('src/core', TS), ...sourceFiles('src/tools', TS)].filter((f) => f !== CLOCK_FILE);

describe('time comes from the injected Clock: no Date.now() or new Date() in src/core and src/tools outside src/core/clock.ts', () => {
  it.each(clockScoped.filter((f) => !(f in CLOCK_ALLOWED)))('%s', (file) => {
    expect(clockReads(readRepo(file)!)).toEqual([]);
  });

  it('every allowed file exists and still reads the clock (a stale entry must be removed)', () => {
    const stale = Object.keys(CLOCK_ALLOWED).filter((f) => !existsSync(join(ROOT, f)) || clockReads(readRepo(f)!).length === 0);
    expect(stale).toEqual([]);
  });

  it('the clock itself is where the wall is read', () => {
    expect(clockReads(readRepo(CLOCK_FILE)!).length).toBeGreaterThan(0);
  });
});


describe('src/core/trading/matching, src/core/strategy and the backtest engine import no db, IO or transport', () => {
  // These directories may not exist yet: the rule then holds vacuously, and bites from their first file.
  const files = [
    ...sourceFiles('src/core/trading/matching', ANY_SOURCE),
    ...sourceFiles('src/core/strategy', ANY_SOURCE),
    ...sourceFiles('src/core/backtest', ANY_SOURCE),
  ];
  it('neither directly nor through the modules they load', () => {
    const found = Object.fromEntries(files.map((f) => [f, pureViolations(f, readRepo)] as const).filter(([, v]) => v.length));
    expect(found).toEqual({});
  });
  it('draw no unseeded randomness: the same inputs replay the same run', () => {
    const found = files.filter((f) => /\bMath\.random\b/.test(readRepo(f)!.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
    expect(found).toEqual([]);
  });
});

/**
 * The command pipeline knows no concrete service: it may use the shared vocabulary (errors, principal,
 * trade intent, clock, logger, schema), the journal it writes (audit) and the redaction it writes with
 * (secrets/redact); never a domain. Handlers reach domains through ctx.services, typed by the root.
 */
const COMMAND_MAY_IMPORT = new Set(['src/core/errors.ts', 'src/core/principal.ts', 'src/core/trade-intent.ts', 'src/core/clock.ts', 'src/core/logger.ts', 'src/core/schema.ts', 'src/core/audit/audit-log.ts', 'src/core/audit/journal-input.ts', 'src/core/secrets/redact.ts']);

function commandViolations(file: string, source: string): string[] {
  return importRefs(source)
    .map((r) => ({ spec: r.spec, local: resolveLocal(file, r.spec) }))
    .filter((r) => r.local !== null && !r.local.startsWith('src/core/command/') && !COMMAND_MAY_IMPORT.has(r.local))
    .map((r) => r.spec);
}

describe('src/core/command imports the shared vocabulary and the journal, never a domain', () => {
  it('the rule can fail', () => {
    expect(commandViolations('src/core/command/execute.ts', "import { TradingService } from '../trading/trading-service.js';")).toEqual(['../trading/trading-service.js']);
    expect(commandViolations('src/core/command/execute.ts', "import { AppError } from '../errors.js';")).toEqual([]);
  });
  it.each(sourceFiles('src/core/command', ANY_SOURCE))('%s', (file) => {
    expect(commandViolations(file, readRepo(file)!)).toEqual([]);
  });
});

describe('src/bot imports no db and no secrets', () => {
  it('neither directly nor through the modules it loads', () => {
    const found = Object.fromEntries(sourceFiles('src/bot', ANY_SOURCE).map((f) => [f, botViolations(f, readRepo)] as const).filter(([, v]) => v.length));
    expect(found).toEqual({});
  });
});

describe('only the composition root (src/app, called by src/main.ts and src/cli.ts) imports every module', () => {
  it('nothing else imports the root or the bag of services (the faces name its type only)', () => {
    const found = Object.fromEntries(
      sourceFiles('src', ANY_SOURCE)
        .map((f) => [f, rootViolations(f, readRepo(f)!)] as const)
        .filter(([, v]) => v.length),
    );
    expect(found).toEqual({});
  });
});

/** The bots' broker layer (topics, credentials, brokers) is core: it serves both faces and imports neither. */
function botsFaceViolations(file: string, source: string): string[] {
  return importRefs(source)
    .filter((r) => {
      const local = resolveLocal(file, r.spec);
      return under('src/rest')(local) || under('src/mcp')(local);
    })
    .map((r) => r.spec);
}

describe('src/core/bots imports neither face (src/rest, src/mcp)', () => {
  it('the rule can fail', () => {
    expect(botsFaceViolations('src/core/bots/broker.ts', "import { x } from '../../rest/app.js';\nimport type { Y } from '../../mcp/server.js';\nimport { z } from './topics.js';")).toEqual(['../../rest/app.js', '../../mcp/server.js']);
  });
  it.each(sourceFiles('src/core/bots', ANY_SOURCE))('%s', (file) => {
    expect(botsFaceViolations(file, readRepo(file)!)).toEqual([]);
  });
});
