import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The images an admin allows bots to run (besides the server's own bot image, always allowed): exact
 * references, or prefixes ending in `/*`, `:*` or `@*` (`hummingbot/hummingbot:*`). Empty: only the server's image.
 */
export const dockerAllowedImages = pgTable('docker_allowed_images', {
  pattern: text('pattern').primaryKey(),
  addedBy: text('added_by').notNull(),
  addedAt: timestamp('added_at', { withTimezone: true }).notNull(),
});
export type DockerAllowedImageRow = typeof dockerAllowedImages.$inferSelect;
