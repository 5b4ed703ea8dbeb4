import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Saved controller configs. A config belongs to the principal that created it (`owner`) and its `name`
 * is unique per owner: two users may each keep a "btc_trend", and neither sees the other's (an admin
 * sees all). Each change writes a new row in controller_config_versions and moves `current_version`, so
 * what a bot or a backtest ran with stays readable after later edits.
 */
export const controllerConfigs = pgTable(
  'controller_configs',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    name: text('name').notNull(),
    controllerName: text('controller_name').notNull(),
    currentVersion: integer('current_version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('controller_configs_owner_name_idx').on(t.owner, t.name), index('controller_configs_created_idx').on(t.createdAt, t.id)],
);

/** Every version of every config, immutable once written; deleted with their config. */
export const controllerConfigVersions = pgTable(
  'controller_config_versions',
  {
    configId: text('config_id')
      .notNull()
      .references(() => controllerConfigs.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** The config as the controller's schema parsed it: defaults filled in, plain JSON. */
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.configId, t.version] })],
);

export type ControllerConfigRow = typeof controllerConfigs.$inferSelect;
export type ControllerConfigVersionRow = typeof controllerConfigVersions.$inferSelect;
