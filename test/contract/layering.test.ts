import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Module specifiers of every import form: `import x from '…'`, `import type … from '…'`,
 * `export … from '…'`, `import '…'` (side effect), `import('…')` and `require('…')`.
 */
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"`])([^'"`\n]+)\1/g;

function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT_RE)].map((m) => m[2]!);
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

function sourceFiles(dir: string, exts: RegExp): string[] {
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
