import { createHash, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Principal } from '../command/types.js';
import type { Db } from '../db/client.js';
import { users } from '../db/schema/index.js';
import { verifyPassword } from './passwords.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks Basic credentials. The environment's admin (server mode) is compared as SHA-256 digests with
 * timingSafeEqual, so neither length nor content leaks through timing. Stored users are verified with
 * scrypt, which is deliberately slow; a verified pair is then remembered by its digest for a few
 * minutes so that a dashboard polling every second does not pay scrypt on every request.
 */
export class Authenticator {
  readonly #envUser?: { digest: Buffer; principal: Principal };
  readonly #cache = new Map<string, { principal: Principal; until: number }>();
  readonly #db: Db;
  static readonly CACHE_MS = 5 * 60_000;
  static readonly CACHE_MAX = 1000;

  constructor(db: Db, envUser?: { username: string; password: string }) {
    this.#db = db;
    if (envUser) this.#envUser = { digest: sha256(`${envUser.username}:${envUser.password}`), principal: { name: envUser.username, role: 'admin' } };
  }

  async verify(username: string, password: string): Promise<Principal | null> {
    const digest = sha256(`${username}:${password}`);
    if (this.#envUser && timingSafeEqual(digest, this.#envUser.digest)) return this.#envUser.principal;
    const key = digest.toString('base64');
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    const [row] = await this.#db.select().from(users).where(eq(users.username, username)).limit(1);
    // Run scrypt even for an unknown user so that timing does not reveal which usernames exist.
    const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
    if (!row || !ok) return null;
    const principal: Principal = { name: row.username, role: row.role };
    if (this.#cache.size >= Authenticator.CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, { principal, until: Date.now() + Authenticator.CACHE_MS });
    return principal;
  }

  /** Forget cached verifications, after a user or password change. */
  invalidate(): void {
    this.#cache.clear();
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Parses an `Authorization: Basic …` header; null when absent or malformed. Credentials that are not
 * valid UTF-8 or hold a control character (RFC 7617 allows neither) are malformed: no stored user or
 * password can contain one, and a NUL must never reach a database query.
 */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return null;
  const bytes = Buffer.from(m[1]!, 'base64');
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (/[\u0000-\u001F\u007F]/.test(decoded)) return null;
  const i = decoded.indexOf(':');
  if (i < 1) return null;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
