import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { registerSecret } from './redact.js';

/**
 * Seals exchange credentials with AES-256-GCM. A box is `v1.<iv>.<tag>.<ciphertext>` (base64url) and is
 * bound to its owner by the additional authenticated data, so a box copied onto another account or
 * connector row fails to open instead of leaking under the wrong name.
 */
export class Vault {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the vault key must be 32 bytes');
    this.#key = key;
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(box: string, aad: string): string {
    const [v, iv, tag, ct] = box.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a vault box');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  sealJson(value: Record<string, string>, aad: string): string {
    return this.seal(JSON.stringify(value), aad);
  }

  /** Opens a box of credential fields and registers each value with the log redactor. */
  openJson(box: string, aad: string): Record<string, string> {
    const value = JSON.parse(this.open(box, aad)) as Record<string, string>;
    for (const v of Object.values(value)) registerSecret(v);
    return value;
  }

  /** A public fingerprint of the key, stored to detect a start with a different key. */
  fingerprint(): string {
    return createHmac('sha256', this.#key).update('vault-key-check').digest('base64url').slice(0, 22);
  }
}

export function parseVaultKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('VAULT_KEY must be 32 bytes: 64 hex characters or 44 base64 characters');
  return key;
}

/**
 * The key from VAULT_KEY, else from the key file, which is generated (mode 0600) on first start.
 * Returns whether the file was created so the caller can say so once.
 */
export function loadVaultKey(envKey: string | undefined, keyFile: string): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (envKey) return { key: parseVaultKey(envKey), source: 'env' };
  if (existsSync(keyFile)) {
    const mode = statSync(keyFile).mode & 0o777;
    if (mode & 0o077) chmodSync(keyFile, 0o600);
    return { key: parseVaultKey(readFileSync(keyFile, 'utf8')), source: 'file' };
  }
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  // Written whole to a file of our own, then linked into place: link fails if the key exists, so of two
  // processes starting on an empty data dir at once one key wins, and the other reads it, never a half.
  const key = randomBytes(32);
  const tmp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: parseVaultKey(readFileSync(keyFile, 'utf8')), source: 'file' };
  } finally {
    rmSync(tmp, { force: true });
  }
  return { key, source: 'generated' };
}
