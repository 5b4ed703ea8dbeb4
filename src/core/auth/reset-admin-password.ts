import { join } from 'node:path';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { UsersService } from '../users/users-service.js';
import { AdminPasswordFile } from './admin-password-file.js';
import { Authenticator } from './authenticator.js';
import { generatePassword } from './passwords.js';

export class ResetRefusedError extends Error {}

/**
 * `tradedesk reset-admin-password`: gives a stored admin a new generated password (creating the admin
 * when no such user exists), and keeps it in DATA_DIR/admin-password.txt like a first start does. It
 * opens only the database, and runs while no server uses the embedded data dir (the CLI takes it for
 * itself: a server caches logins); a Postgres server's database may be shared with running servers.
 */
export async function resetAdminPassword(config: Config, username: string, clock = systemClock): Promise<{ username: string; password: string; file: string; created: boolean }> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pg'), embedded: config.embeddedDatabase });
  try {
    const users = new UsersService(database.db, new Authenticator(database.db, clock), clock);
    const role = await users.role(username);
    if (role && role !== 'admin') {
      throw new ResetRefusedError(`${username} is a ${role}, not an admin; pass --username with an admin's name (GET /users lists them)`);
    }
    const password = generatePassword();
    if (role) await users.update(username, { password });
    else await users.create(username, password, 'admin');
    const file = new AdminPasswordFile(config.dataDir, clock);
    file.write(username, password);
    return { username, password, file: file.path, created: !role };
  } finally {
    await database.close();
  }
}
