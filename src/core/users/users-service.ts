import { asc, count, eq } from 'drizzle-orm';
import { AppError } from '../command/errors.js';
import type { Role } from '../command/types.js';
import type { Authenticator } from '../auth/authenticator.js';
import { hashPassword } from '../auth/passwords.js';
import type { Db } from '../db/client.js';
import { users, type UserRow } from '../db/schema/index.js';

export interface UserView {
  username: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

const view = (u: UserRow): UserView => ({ username: u.username, role: u.role, created_at: u.createdAt.toISOString(), updated_at: u.updatedAt.toISOString() });

/**
 * The people and agents allowed in, with a role each: admin (everything), trader (trading under the
 * guardrails), viewer (read only). Passwords are stored as scrypt hashes; every change clears the
 * authenticator's cache so that a removed user or a new password takes effect at once.
 */
export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly auth: Authenticator,
  ) {}

  async list(): Promise<UserView[]> {
    return (await this.db.select().from(users).orderBy(asc(users.username))).map(view);
  }

  async role(username: string): Promise<Role | null> {
    const [u] = await this.db.select().from(users).where(eq(users.username, username));
    return u?.role ?? null;
  }

  async create(username: string, password: string, role: Role): Promise<UserView> {
    const inserted = await this.db.insert(users).values({ username, passwordHash: await hashPassword(password), role }).onConflictDoNothing().returning();
    if (!inserted.length) throw new AppError('CONFLICT', `User ${username} already exists.`, { hint: 'Use PUT /users/{username} to change the password or role.' });
    this.auth.invalidate();
    return view(inserted[0]!);
  }

  async update(username: string, changes: { password?: string; role?: Role }): Promise<UserView> {
    return this.db.transaction(async (tx) => {
      const [u] = await tx.select().from(users).where(eq(users.username, username)).for('update');
      if (!u) throw notFound(username);
      if (u.role === 'admin' && changes.role && changes.role !== 'admin') await lastAdminGuard(tx as unknown as Db, username);
      const [row] = await tx
        .update(users)
        .set({ ...(changes.password ? { passwordHash: await hashPassword(changes.password) } : {}), ...(changes.role ? { role: changes.role } : {}), updatedAt: new Date() })
        .where(eq(users.username, username))
        .returning();
      this.auth.invalidate();
      return view(row!);
    });
  }

  async delete(username: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [u] = await tx.select().from(users).where(eq(users.username, username)).for('update');
      if (!u) throw notFound(username);
      if (u.role === 'admin') await lastAdminGuard(tx as unknown as Db, username);
      await tx.delete(users).where(eq(users.username, username));
    });
    this.auth.invalidate();
  }
}

/** Keeps at least one stored admin, so the server never locks its owner out. */
async function lastAdminGuard(db: Db, leaving: string): Promise<void> {
  const [row] = await db.select({ n: count() }).from(users).where(eq(users.role, 'admin'));
  if ((row?.n ?? 0) <= 1) {
    throw new AppError('PRECONDITION_FAILED', `${leaving} is the last admin.`, { hint: 'Create another admin first.' });
  }
}

function notFound(username: string): AppError {
  return new AppError('NOT_FOUND', `There is no user ${username}.`, { hint: 'GET /users lists them.' });
}
