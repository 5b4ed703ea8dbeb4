import { createHash, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Principal } from '../principal.js';
import type { Db } from '../db/client.js';
import { users, type UserRow } from '../db/schema/index.js';
import { verifyPassword } from './passwords.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Test seam: runs between a verification's database read and its cache write. */
export interface AuthenticatorHooks {
  afterRead?: (username: string) => Promise<void>;
}

/** The identity a stored user's row grants: name, role and the accounts it is limited to (null: all). */
export function principalOf(row: Pick<UserRow, 'username' | 'role' | 'accounts'>): Principal {
  return row.accounts ? { name: row.username, role: row.role, accounts: row.accounts } : { name: row.username, role: row.role };
}

/**
 * Checks Basic credentials. The environment's admin (server mode) is compared as SHA-256 digests with
 * timingSafeEqual, so neither length nor content leaks through timing. Stored users are verified with
 * scrypt, which is deliberately slow; a verified pair is then remembered by its digest for a few
 * minutes so that a dashboard polling every second does not pay scrypt on every request.
 *
 * Revocation must win over that cache, also against a request in flight. Every user change calls
 * `invalidate()` after its transaction commits, which clears the cache and bumps a generation. A
 * verification notes the generation before it reads the row; if a change landed meanwhile, the row it
 * read may be the old one, so it is neither cached nor trusted: the verification starts over and reads
 * the committed row. An entry written between the commit and the bump is removed by the clear, so once
 * the admin's call has returned no request can be answered from the old identity.
 */
export class Authenticator {
  readonly #envUser?: { digest: Buffer; principal: Principal };
  readonly #cache = new Map<string, { principal: Principal; until: number }>();
  readonly #db: Db;
  readonly #hooks: AuthenticatorHooks;
  readonly #clock: Clock;
  #generation = 0;
  static readonly CACHE_MS = 5 * 60_000;
  static readonly CACHE_MAX = 1000;
  /** Rounds a verification restarts when user changes keep landing during it; the last result is then returned uncached. */
  static readonly MAX_ROUNDS = 3;

  constructor(db: Db, clock: Clock, envUser?: { username: string; password: string }, hooks: AuthenticatorHooks = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#hooks = hooks;
    if (envUser) this.#envUser = { digest: sha256(`${envUser.username}:${envUser.password}`), principal: { name: envUser.username, role: 'admin' } };
  }

  async verify(username: string, password: string): Promise<Principal | null> {
    const digest = sha256(`${username}:${password}`);
    if (this.#envUser && timingSafeEqual(digest, this.#envUser.digest)) return this.#envUser.principal;
    const key = digest.toString('base64');
    const hit = this.#cache.get(key);
    if (hit && hit.until > this.#clock.now()) return hit.principal;
    let result: Principal | null = null;
    for (let round = 0; round < Authenticator.MAX_ROUNDS; round++) {
      const generation = this.#generation;
      const [row] = await this.#db.select().from(users).where(eq(users.username, username)).limit(1);
      // Run scrypt even for an unknown user so that timing does not reveal which usernames exist.
      const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
      await this.#hooks.afterRead?.(username);
      result = row && ok ? principalOf(row) : null;
      if (generation !== this.#generation) continue; // a user changed while this one was read: read again
      if (result) {
        if (this.#cache.size >= Authenticator.CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(key, { principal: result, until: this.#clock.now() + Authenticator.CACHE_MS });
      }
      return result;
    }
    return result;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Forget cached verifications and outdate those in flight; call after a user change has committed. */
  invalidate(): void {
    this.#generation++;
    this.#cache.clear();
  }
}

/** Shared by every request: a decode without `stream` keeps no state between calls. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

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
    decoded = STRICT_UTF8.decode(bytes);
  } catch {
    return null;
  }
  if (/[\u0000-\u001F\u007F]/.test(decoded)) return null;
  const i = decoded.indexOf(':');
  if (i < 1) return null;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
