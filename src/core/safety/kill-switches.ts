import { eq, inArray } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { killSwitches, type KillSwitchRow } from '../db/schema/index.js';

export const GLOBAL_SCOPE = '*';

export interface KillSwitchState {
  scope: 'global' | 'account';
  account_name: string | null;
  reason: string;
  set_by: string;
  set_at: Date;
}

export function killSwitchView(r: KillSwitchRow): KillSwitchState {
  return { scope: r.scope === GLOBAL_SCOPE ? 'global' : 'account', account_name: r.scope === GLOBAL_SCOPE ? null : r.scope, reason: r.reason, set_by: r.setBy, set_at: r.setAt };
}

/**
 * Persistent kill switches, one global and one per account. A row is an active switch: it survives
 * restarts because it lives in the database, and only the admin clear command deletes it.
 */
export class KillSwitches {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** The switches that stop `account` (its own and the global one), global first. */
  async activeFor(account: string): Promise<KillSwitchState[]> {
    const rows = await this.db.select().from(killSwitches).where(inArray(killSwitches.scope, [GLOBAL_SCOPE, account]));
    return rows.map(killSwitchView).sort((a, b) => Number(b.scope === 'global') - Number(a.scope === 'global'));
  }

  async list(): Promise<KillSwitchState[]> {
    return (await this.db.select().from(killSwitches)).map(killSwitchView);
  }

  /** Sets the switch; setting an active one keeps its first reason and time (the first trip is the one that matters). */
  async set(account: string | null, reason: string, by: string): Promise<{ state: KillSwitchState; already_active: boolean }> {
    const scope = account ?? GLOBAL_SCOPE;
    const inserted = await this.db.insert(killSwitches).values({ scope, reason, setBy: by, setAt: this.clock.date() }).onConflictDoNothing().returning();
    if (inserted[0]) return { state: killSwitchView(inserted[0]), already_active: false };
    const [row] = await this.db.select().from(killSwitches).where(eq(killSwitches.scope, scope));
    return { state: killSwitchView(row!), already_active: true };
  }

  async clear(account: string | null): Promise<KillSwitchState | null> {
    const [row] = await this.db.delete(killSwitches).where(eq(killSwitches.scope, account ?? GLOBAL_SCOPE)).returning();
    return row ? killSwitchView(row) : null;
  }
}
