import { Cursor, Limit } from './schema.js';

/**
 * Page sizes. A REST client gets the page its command promises (usually 100 items); a model gets a
 * smaller one by default, since every item it reads costs context: it can ask for more with `limit`.
 * This is the one place that decides the MCP default, so every list command gives the same answer.
 */
export const MCP_PAGE_LIMIT = 20;

/** The limit a call asked for, or the default for the face it came through. */
export function pageLimit(requested: number | undefined, ctx: { surface: { channel: string } }, restDefault = 100): number {
  if (requested !== undefined) return requested;
  return ctx.surface.channel === 'mcp' ? Math.min(restDefault, MCP_PAGE_LIMIT) : restDefault;
}

export const PageLimit = Limit.describe(`Items per page (default 100; ${MCP_PAGE_LIMIT} over MCP).`);
export const PageCursor = Cursor.describe("The previous page's pagination.next_cursor.");
