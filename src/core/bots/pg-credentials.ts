import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { generatePassword, hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Db } from '../db/client.js';
import { botCredentials } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import type { Vault } from '../secrets/vault.js';
import type { BotCredentials, BotLogin } from './credentials.js';
import { botIdOfUsername, botUsername, isBotId } from './topics.js';

/** scrypt checks run at once, out of libuv's 4 threads by default. */
const HASH_SLOTS = 2;
/** Logins remembered after a scrypt check (passed, and failed); beyond this the oldest bot is forgotten. */
const CACHE_LIMIT = 10_000;

/**
 * Bot credentials in Postgres: a scrypt hash to check a CONNECT against, and the password sealed by the
 * vault (bound to the bot id) to hand to the bot again on a redeploy.
 *
 * A reconnect storm (the broker restarted, every bot comes back at once) must not cost a scrypt per
 * CONNECT, so a login that passed is remembered as a keyed digest next to the hash it passed against.
 * The row is still read on every CONNECT (a primary-key lookup, cheap next to scrypt): a revoked bot has
 * no row and is refused at once, whichever process revoked it, and a reissued password (another hash)
 * outdates what was remembered.
 */
export class PgBotCredentials implements BotCredentials {
  readonly #cache = new Map<string, { hash: string; digest: Buffer }>();
  readonly #failed = new Map<string, { hash: string; digest: Buffer }>();
  readonly #waiting: Array<() => void> = [];
  #hashing = 0;
  // Per process: a digest in memory says nothing about the password outside it.
  readonly #digestKey = randomBytes(32);

  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
    /** The slow check of a password against its stored hash (a seam for tests to count them). */
    private readonly checkHash: (password: string, hash: string) => Promise<boolean> = verifyPassword,
  ) {}

  async issue(botId: string): Promise<BotLogin> {
    if (!isBotId(botId)) {
      throw new AppError('VALIDATION_FAILED', `"${botId}" is not a valid bot id.`, { hint: 'Use 1-63 lowercase letters, digits, "-" or "_".' });
    }
    const existing = await this.#read(botId);
    if (existing) return existing;
    const username = botUsername(botId);
    const password = generatePassword();
    await this.db
      .insert(botCredentials)
      .values({ botId, username, passwordHash: await hashPassword(password), passwordBox: this.vault.sealJson({ password }, aad(botId)) })
      .onConflictDoNothing();
    // Two deploys of one bot at once: whichever row was written first is the bot's login for both.
    const stored = await this.#read(botId);
    if (!stored) throw new AppError('INTERNAL', `The credentials of bot ${botId} were removed while they were being issued.`, { hint: 'Deploy the bot again.' });
    return stored;
  }

  async verify(username: string, password: string): Promise<string | null> {
    const botId = botIdOfUsername(username);
    if (!botId) return null;
    const [row] = await this.db.select({ username: botCredentials.username, hash: botCredentials.passwordHash }).from(botCredentials).where(eq(botCredentials.botId, botId));
    if (!row || row.username !== username) {
      this.#cache.delete(botId);
      this.#failed.delete(botId);
      return null;
    }
    const digest = this.#digest(password);
    const known = this.#cache.get(botId);
    if (known && known.hash === row.hash && timingSafeEqual(known.digest, digest)) return botId;
    // A bot left with an old password retries it every few seconds: the same wrong password against
    // the same hash is refused again without another scrypt.
    const failed = this.#failed.get(botId);
    if (failed && failed.hash === row.hash && timingSafeEqual(failed.digest, digest)) return null;
    const ok = await this.#limited(() => this.checkHash(password, row.hash));
    // The check took a while (and may have waited its turn): a revoke or a reissue in the meantime wins.
    const [still] = await this.db.select({ hash: botCredentials.passwordHash }).from(botCredentials).where(eq(botCredentials.botId, botId));
    if (still?.hash !== row.hash) return null;
    remember(ok ? this.#cache : this.#failed, botId, { hash: row.hash, digest });
    return ok ? botId : null;
  }

  async revoke(botId: string): Promise<void> {
    this.#cache.delete(botId);
    this.#failed.delete(botId);
    await this.db.delete(botCredentials).where(eq(botCredentials.botId, botId));
  }

  /**
   * scrypt runs on libuv's small thread pool, which DNS lookups and file reads share: a storm of first
   * logins all hashing at once would starve them (new database connections time out). So at most
   * HASH_SLOTS checks run at a time; the others wait their turn.
   */
  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#hashing >= HASH_SLOTS) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#hashing++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#hashing--;
    }
  }

  async #read(botId: string): Promise<BotLogin | null> {
    const [row] = await this.db.select().from(botCredentials).where(eq(botCredentials.botId, botId));
    if (!row) return null;
    // openJson registers the password with the log redactor: should it ever reach a log line, it is masked.
    return { username: row.username, password: this.vault.openJson(row.passwordBox, aad(botId)).password! };
  }

  #digest(password: string): Buffer {
    return createHmac('sha256', this.#digestKey).update(password).digest();
  }
}

const aad = (botId: string) => `bot_credentials:${botId}`;

/** Keeps the newest entry of each bot, forgetting the oldest bot beyond CACHE_LIMIT. */
function remember(map: Map<string, { hash: string; digest: Buffer }>, botId: string, entry: { hash: string; digest: Buffer }): void {
  map.delete(botId);
  map.set(botId, entry);
  if (map.size > CACHE_LIMIT) map.delete(map.keys().next().value!);
}
