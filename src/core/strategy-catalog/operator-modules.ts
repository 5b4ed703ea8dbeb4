import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { Decimal } from '../decimal.js';
import type { Logger } from '../logger.js';

/**
 * What a module that exports a function is handed, so that it needs no package of its own: the
 * server's zod (a config must be one of its schemas) and its Decimal.
 */
export const MODULE_KIT = Object.freeze({ z, Decimal });
export type ModuleKit = typeof MODULE_KIT;

export interface LoadedModule {
  file: string;
  definition: unknown;
}

const MODULE_FILE = /\.(?:m?js)$/;

/**
 * Imports the operator's modules in `dir` (not its subfolders), in name order. Each module's default
 * export is a definition, an array of definitions, or a function of MODULE_KIT returning either. These
 * are trusted files on the operator's own disk, like the server's code; nothing reaches this folder over
 * the API. A module that fails to import is logged with its file and skipped, the rest still load.
 */
export async function importFolder(dir: string, logger: Logger, kind: string): Promise<LoadedModule[]> {
  if (!existsSync(dir)) {
    logger.debug('no operator strategy folder', { kind, dir });
    return [];
  }
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && MODULE_FILE.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
  const out: LoadedModule[] = [];
  for (const file of files) {
    let definitions: unknown[] | undefined;
    try {
      definitions = await moduleDefinitions((await import(pathToFileURL(file).href)) as { default?: unknown });
    } catch (err) {
      logger.warn(`skipped ${kind} module ${file}: it failed to load: ${err instanceof Error ? err.message : String(err)}`, { file, kind });
      continue;
    }
    if (definitions === undefined) {
      logger.warn(`skipped ${kind} module ${file}: it has no default export (a definition, an array of them, or a function returning either)`, { file, kind });
      continue;
    }
    for (const definition of definitions) out.push({ file, definition });
  }
  return out;
}

/**
 * The definitions an imported operator module exports, unchecked; undefined when it has no default
 * export. Shared with the worker threads that import the same module again (a backtest), so both read a
 * module the same way.
 */
export async function moduleDefinitions(mod: { default?: unknown }): Promise<unknown[] | undefined> {
  const exported = typeof mod.default === 'function' ? await (mod.default as (kit: ModuleKit) => unknown)(MODULE_KIT) : mod.default;
  if (exported === undefined) return undefined;
  return Array.isArray(exported) ? exported : [exported];
}
