import { randomBytes } from 'node:crypto';
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { controllerConfigs, controllerConfigVersions, type ControllerConfigRow, type ControllerConfigVersionRow } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { StrategyCatalog } from './catalog.js';
import { encodeKeysetCursor, keysetCursor } from '../keyset-cursor.js';

export const CONFIG_ID_RE = /^cfg_[A-Za-z0-9_-]{16}$/;
/** Largest stored config, as JSON: a config is parameters, not data. */
export const MAX_CONFIG_BYTES = 64 * 1024;

export interface ConfigVersionView {
  version: number;
  config: Record<string, unknown>;
  created_at: string;
  created_by: string;
}

export interface ControllerConfigView {
  config_id: string;
  name: string;
  controller_name: string;
  owner: string;
  current_version: number;
  created_at: string;
  updated_at: string;
  /** The current version, or the one asked for. */
  version: ConfigVersionView;
}

export interface Page<T> {
  data: T[];
  pagination: { limit: number; has_more: boolean; next_cursor: string | null };
}

/**
 * Saved, versioned controller configs in Postgres. Every write first parses the config with its
 * controller's schema from the catalog, so a stored config is always one the controller accepted (in
 * its normal form, defaults filled in); a bad one is refused with the field paths and nothing changes.
 * A config is its owner's: another principal gets NOT_FOUND, exactly as for a missing id, while an admin
 * reads and changes every config.
 */
export class ControllerConfigs {
  constructor(
    private readonly db: Db,
    private readonly catalog: StrategyCatalog,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, input: { name: string; controllerName: string; config: unknown }): Promise<ControllerConfigView> {
    const config = this.#parse(input.controllerName, input.config);
    const now = this.clock.date();
    const id = `cfg_${randomBytes(12).toString('base64url')}`;
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(controllerConfigs)
        .values({ id, owner: principal.name, name: input.name, controllerName: input.controllerName, currentVersion: 1, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning();
      if (!row) {
        throw new AppError('CONFLICT', `You already have a controller config named ${input.name}.`, {
          hint: 'Choose another name, or change that one with PUT /controllers/{config_id}/config (find its id with GET /controllers/configs?name=…).',
          details: { name: input.name },
        });
      }
      const [version] = await tx.insert(controllerConfigVersions).values({ configId: id, version: 1, config, createdAt: now, createdBy: principal.name }).returning();
      return view(row, version!);
    });
  }

  /** One config with its current version, or with `version` when given. */
  async get(principal: Principal, id: string, version?: number): Promise<ControllerConfigView> {
    const row = await this.#visible(principal, id);
    const [v] = await this.db
      .select()
      .from(controllerConfigVersions)
      .where(and(eq(controllerConfigVersions.configId, id), eq(controllerConfigVersions.version, version ?? row.currentVersion)));
    if (!v) {
      throw new AppError('NOT_FOUND', `Controller config ${id} has no version ${version}.`, {
        hint: `Its versions run from 1 to ${row.currentVersion}; GET /controllers/${id}/config/versions lists them.`,
        details: { config_id: id, version },
      });
    }
    return view(row, v);
  }

  /** Newest first: the principal's own configs (an admin's: everyone's), each with its current version. */
  async list(principal: Principal, f: { controllerName?: string; name?: string; limit: number; cursor?: string }): Promise<Page<ControllerConfigView>> {
    const conds: SQL[] = [];
    if (principal.role !== 'admin') conds.push(eq(controllerConfigs.owner, principal.name));
    if (f.controllerName) conds.push(eq(controllerConfigs.controllerName, f.controllerName));
    if (f.name) conds.push(eq(controllerConfigs.name, f.name));
    if (f.cursor) {
      const { at, key: id } = keysetCursor(f.cursor, CONFIG_ID_RE);
      conds.push(or(lt(controllerConfigs.createdAt, at), and(eq(controllerConfigs.createdAt, at), lt(controllerConfigs.id, id)))!);
    }
    const rows = await this.db
      .select({ c: controllerConfigs, v: controllerConfigVersions })
      .from(controllerConfigs)
      .innerJoin(controllerConfigVersions, and(eq(controllerConfigVersions.configId, controllerConfigs.id), eq(controllerConfigVersions.version, controllerConfigs.currentVersion)))
      .where(and(...conds))
      .orderBy(desc(controllerConfigs.createdAt), desc(controllerConfigs.id))
      .limit(f.limit + 1);
    const page = rows.slice(0, f.limit);
    const hasMore = rows.length > f.limit;
    const last = page[page.length - 1];
    return { data: page.map((r) => view(r.c, r.v)), pagination: { limit: f.limit, has_more: hasMore, next_cursor: hasMore && last ? encodeKeysetCursor(last.c.createdAt, last.c.id) : null } };
  }

  /**
   * Stores `config` as the next version. With `expectedVersion`, refuses (CONFLICT) when someone else
   * has written a version since the caller read it, so two editors cannot silently overwrite each other.
   */
  async update(principal: Principal, id: string, input: { config: unknown; expectedVersion?: number }): Promise<ControllerConfigView> {
    const current = await this.#visible(principal, id);
    const config = this.#parse(current.controllerName, input.config);
    const now = this.clock.date();
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(controllerConfigs).where(eq(controllerConfigs.id, id)).for('update');
      if (!row) throw notFound(id);
      if (input.expectedVersion !== undefined && input.expectedVersion !== row.currentVersion) {
        throw new AppError('CONFLICT', `Controller config ${id} is at version ${row.currentVersion}, not ${input.expectedVersion}.`, {
          hint: 'Someone changed it since you read it: read the current version, apply your change to it, and send it with that expected_version.',
          details: { config_id: id, current_version: row.currentVersion },
        });
      }
      const next = row.currentVersion + 1;
      const [version] = await tx.insert(controllerConfigVersions).values({ configId: id, version: next, config, createdAt: now, createdBy: principal.name }).returning();
      const [updated] = await tx.update(controllerConfigs).set({ currentVersion: next, updatedAt: now }).where(eq(controllerConfigs.id, id)).returning();
      return view(updated!, version!);
    });
  }

  /** Deletes the config and every version of it. */
  async delete(principal: Principal, id: string): Promise<void> {
    await this.#visible(principal, id);
    await this.db.delete(controllerConfigs).where(eq(controllerConfigs.id, id));
  }

  /** Every version, newest first; the cursor is the version number to continue below. */
  async versions(principal: Principal, id: string, f: { limit: number; cursor?: string }): Promise<Page<ConfigVersionView>> {
    await this.#visible(principal, id);
    const conds: SQL[] = [eq(controllerConfigVersions.configId, id)];
    if (f.cursor) conds.push(lt(controllerConfigVersions.version, Number(f.cursor)));
    const rows = await this.db.select().from(controllerConfigVersions).where(and(...conds)).orderBy(desc(controllerConfigVersions.version)).limit(f.limit + 1);
    const page = rows.slice(0, f.limit);
    const hasMore = rows.length > f.limit;
    return { data: page.map(versionView), pagination: { limit: f.limit, has_more: hasMore, next_cursor: hasMore ? String(page[page.length - 1]!.version) : null } };
  }

  /** The config in its normal form, or VALIDATION_FAILED with every issue under `config.`. */
  #parse(controllerName: string, config: unknown): Record<string, unknown> {
    const size = Buffer.byteLength(JSON.stringify(config) ?? '');
    if (size > MAX_CONFIG_BYTES) {
      throw new AppError('VALIDATION_FAILED', `Invalid input: config: ${size} bytes of JSON, at most ${MAX_CONFIG_BYTES}.`, {
        details: { issues: [{ path: 'config', message: `at most ${MAX_CONFIG_BYTES} bytes of JSON` }] },
      });
    }
    const res = this.catalog.validate('controller', controllerName, config);
    if (res.valid) return res.config;
    const issues = res.issues.map((i) => ({ path: i.path === '(root)' ? 'config' : `config.${i.path}`, message: i.message }));
    throw new AppError('VALIDATION_FAILED', `Invalid config for ${controllerName}: ${issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ')}.`, {
      hint: `Fix the fields listed in details.issues; GET /controllers/${controllerName} has the config's JSON Schema, and POST /controllers/${controllerName}/validate checks a config without storing it.`,
      details: { issues },
    });
  }

  async #visible(principal: Principal, id: string): Promise<ControllerConfigRow> {
    const [row] = await this.db.select().from(controllerConfigs).where(eq(controllerConfigs.id, id));
    if (!row || (principal.role !== 'admin' && row.owner !== principal.name)) throw notFound(id);
    return row;
  }
}

function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `No controller config ${id}.`, { hint: 'List yours with GET /controllers/configs.', details: { config_id: id } });
}

function view(row: ControllerConfigRow, v: ControllerConfigVersionRow): ControllerConfigView {
  return {
    config_id: row.id,
    name: row.name,
    controller_name: row.controllerName,
    owner: row.owner,
    current_version: row.currentVersion,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    version: versionView(v),
  };
}

function versionView(v: ControllerConfigVersionRow): ConfigVersionView {
  return { version: v.version, config: v.config, created_at: v.createdAt.toISOString(), created_by: v.createdBy };
}


