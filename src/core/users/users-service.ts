import { asc, eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { Principal, Role } from '../principal.js';
import { principalOf, type Authenticator } from '../auth/authenticator.js';
import { hashPassword } from '../auth/passwords.js';
import type { Db } from '../db/client.js';
import { users, type UserRow } from '../db/schema/index.js';

export interface UserView {
  username: string;
  role: Role;
  /** The accounts the user may see and trade; null = all (admins are never limited). */
  accounts: string[] | null;
  created_at: string;
  updated_at: string;
}

const view = (u: UserRow): UserView => ({ username: u.username, role: u.role, accounts: u.accounts ?? null, created_at: u.createdAt.toISOString(), updated_at: u.updatedAt.toISOString() });

/** A change to a user; an omitted field keeps its value, `accounts: null` lifts the limit. */
export interface UserChanges {
  password?: string;
  role?: Role;
  accounts?: string[] | null;
}

/**
 * The people and agents allowed in, with a role each: admin (everything), trader (trading under the
 * guardrails), viewer (read only), and optionally the accounts they are limited to. Passwords are
 * stored as scrypt hashes. Every change invalidates the authenticator's cache AFTER its transaction has
 * committed: invalidating inside it would let a request read the still-visible old row and cache it.
 */
export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly auth: Authenticator,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<UserView[]> {
    return (await this.db.select().from(users).orderBy(asc(users.username))).map(view);
  }

  async role(username: string): Promise<Role | null> {
    return (await this.principal(username))?.role ?? null;
  }

  /** The identity a stored user has now (the stdio face builds its principal from it), or null. */
  async principal(username: string): Promise<Principal | null> {
    const [u] = await this.db.select().from(users).where(eq(users.username, username));
    return u ? principalOf(u) : null;
  }

  async create(username: string, password: string, role: Role, accounts: string[] | null = null): Promise<UserView> {
    try {
      const passwordHash = await hashPassword(password);
      const at = this.clock.date();
      const inserted = await this.db.insert(users).values({ username, passwordHash, role, accounts: normalise(accounts), createdAt: at, updatedAt: at }).onConflictDoNothing().returning();
      if (!inserted.length) throw new AppError('CONFLICT', `User ${username} already exists.`, { hint: 'Use PUT /users/{username} to change the password, role or accounts.' });
      return view(inserted[0]!);
    } finally {
      this.auth.invalidate();
    }
  }

  async update(username: string, changes: UserChanges): Promise<UserView> {
    const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
    try {
      return await this.db.transaction(async (tx) => {
        const admins = changes.role && changes.role !== 'admin' ? await lockAdmins(tx as unknown as Db) : null;
        const [u] = await tx.select().from(users).where(eq(users.username, username)).for('update');
        if (!u) throw notFound(username);
        if (u.role === 'admin' && admins) lastAdminGuard(admins, username);
        const [row] = await tx
          .update(users)
          .set({
            ...(passwordHash ? { passwordHash } : {}),
            ...(changes.role ? { role: changes.role } : {}),
            ...(changes.accounts !== undefined ? { accounts: normalise(changes.accounts) } : {}),
            updatedAt: this.clock.date(),
          })
          .where(eq(users.username, username))
          .returning();
        return view(row!);
      });
    } finally {
      // After the commit (or the rollback): a request verified from here on reads the committed row.
      this.auth.invalidate();
    }
  }

  async delete(username: string): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        const admins = await lockAdmins(tx as unknown as Db);
        const [u] = await tx.select().from(users).where(eq(users.username, username)).for('update');
        if (!u) throw notFound(username);
        if (u.role === 'admin') lastAdminGuard(admins, username);
        await tx.delete(users).where(eq(users.username, username));
      });
    } finally {
      this.auth.invalidate();
    }
  }
}

/** Sorted and without repeats, so that the stored list reads the same however it was given. */
function normalise(accounts: string[] | null): string[] | null {
  return accounts === null ? null : [...new Set(accounts)].sort();
}

/**
 * Locks every admin row, in name order, before a change that may remove an admin: two such changes then
 * run one after the other (and cannot deadlock), so two admins demoting each other at once cannot leave
 * none. Returns the admins as they are once the lock is held.
 */
async function lockAdmins(db: Db): Promise<string[]> {
  const rows = await db.select({ username: users.username }).from(users).where(eq(users.role, 'admin')).orderBy(asc(users.username)).for('update');
  return rows.map((r) => r.username);
}

/** Keeps at least one stored admin, so the server never locks its owner out. */
function lastAdminGuard(admins: string[], leaving: string): void {
  if (admins.filter((a) => a !== leaving).length < 1) {
    throw new AppError('PRECONDITION_FAILED', `${leaving} is the last admin.`, { hint: 'Create another admin first.' });
  }
}

function notFound(username: string): AppError {
  return new AppError('NOT_FOUND', `There is no user ${username}.`, { hint: 'GET /users lists them.' });
}
