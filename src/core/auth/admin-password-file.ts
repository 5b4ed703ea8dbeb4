import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';

export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

/**
 * A generated admin password is also kept in DATA_DIR/admin-password.txt (mode 0600) until that admin
 * first logs in, so it survives a start that fails before the console shows it, or a console the
 * operator never sees (the stderr of `tradedesk mcp` belongs to the MCP client).
 */
export class AdminPasswordFile {
  readonly path: string;
  /** The username the file is for, while it exists. */
  #pending: string | undefined;
  #readAt = 0;
  readonly #clock: Clock;

  constructor(dataDir: string, clock: Clock) {
    this.path = join(dataDir, ADMIN_PASSWORD_FILE);
    this.#clock = clock;
    this.#reread();
  }

  write(username: string, password: string): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    rmSync(this.path, { force: true }); // a file left by someone else might not be 0600; start afresh
    writeFileSync(
      this.path,
      `# tradedesk admin credentials, generated ${this.#clock.date().toISOString()}.\n` +
        `# This file is removed after the first successful login of this user.\n` +
        `username: ${username}\npassword: ${password}\n`,
      { mode: 0o600, flag: 'wx' },
    );
    chmodSync(this.path, 0o600); // the mode argument is filtered by the umask; this is not
    this.#pending = username;
  }

  /** Called on every successful login; removes the file on that admin's first one. */
  loggedIn(username: string): void {
    // `reset-admin-password` may write the file while a server on a shared Postgres runs: look again
    // now and then rather than on every login, which would put file IO on every request.
    if (this.#pending === undefined && this.#clock.now() - this.#readAt > RE_READ_MS) this.#reread();
    if (this.#pending !== username) return;
    this.#pending = undefined;
    try {
      rmSync(this.path, { force: true });
    } catch {
      /* unremovable (permissions): the login itself must not fail for it */
    }
  }

  #reread(): void {
    this.#readAt = this.#clock.now();
    this.#pending = readUsername(this.path);
  }
}

const RE_READ_MS = 10_000;

function readUsername(path: string): string | undefined {
  try {
    return /^username: (.+)$/m.exec(readFileSync(path, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
