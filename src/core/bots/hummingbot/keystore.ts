import { keccak_256 } from '@noble/hashes/sha3.js';
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The Ethereum keystore v3 format ("Web3 Secret Storage"), the one Hummingbot encrypts its secrets and
 * its password check with: PBKDF2-HMAC-SHA256 derives 32 bytes from the password, the first 16 are the
 * AES-128-CTR key, and the MAC is keccak-256 of the last 16 followed by the ciphertext.
 *
 * Hummingbot's secrets manager writes a value as the keystore JSON, hex-encoded; its headless start
 * decrypts `conf/.password_verification` with CONFIG_PASSWORD and expects the word "HummingBot".
 */

const pbkdf2Async = promisify(pbkdf2);

export interface KeystoreV3 {
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'pbkdf2';
    kdfparams: { c: number; dklen: number; prf: 'hmac-sha256'; salt: string };
    mac: string;
  };
  version: 3;
  alias?: string;
}

/** eth-keyfile's default PBKDF2 work factor, which Hummingbot uses. */
export const PBKDF2_ROUNDS = 1_000_000;
const DKLEN = 32;

export const PASSWORD_VERIFICATION_WORD = 'HummingBot';

async function deriveKey(password: string, salt: Buffer, rounds: number, dklen: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, rounds, dklen, 'sha256');
}

const macOf = (key: Buffer, ciphertext: Buffer) => Buffer.from(keccak_256(Buffer.concat([key.subarray(16, 32), ciphertext])));

export async function encryptKeystore(message: Buffer, password: string, opts: { rounds?: number; salt?: Buffer; iv?: Buffer } = {}): Promise<KeystoreV3> {
  const rounds = opts.rounds ?? PBKDF2_ROUNDS;
  const salt = opts.salt ?? randomBytes(16);
  const iv = opts.iv ?? randomBytes(16);
  const key = await deriveKey(password, salt, rounds, DKLEN);
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(message), cipher.final()]);
  return {
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: iv.toString('hex') },
      ciphertext: ciphertext.toString('hex'),
      kdf: 'pbkdf2',
      kdfparams: { c: rounds, dklen: DKLEN, prf: 'hmac-sha256', salt: salt.toString('hex') },
      mac: macOf(key, ciphertext).toString('hex'),
    },
    version: 3,
    alias: '',
  };
}

/** The message of a PBKDF2 keystore v3; throws "MAC mismatch" for a wrong password, as eth-keyfile does. */
export async function decryptKeystore(ks: KeystoreV3, password: string): Promise<Buffer> {
  const c = ks.crypto;
  if (ks.version !== 3 || c.cipher !== 'aes-128-ctr' || c.kdf !== 'pbkdf2' || c.kdfparams.prf !== 'hmac-sha256') throw new Error('unsupported keystore: only version 3, aes-128-ctr, pbkdf2 hmac-sha256');
  const key = await deriveKey(password, Buffer.from(c.kdfparams.salt, 'hex'), c.kdfparams.c, c.kdfparams.dklen);
  const ciphertext = Buffer.from(c.ciphertext, 'hex');
  const mac = Buffer.from(c.mac, 'hex');
  const expected = macOf(key, ciphertext);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw new Error('MAC mismatch');
  const decipher = createDecipheriv('aes-128-ctr', key.subarray(0, 16), Buffer.from(c.cipherparams.iv, 'hex'));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * Hummingbot's form of an encrypted value: the keystore's JSON (as Python's json.dumps writes it, with
 * ", " and ": " separators), hex-encoded.
 */
export async function encryptSecretValue(value: string, password: string, opts?: { rounds?: number }): Promise<string> {
  const ks = await encryptKeystore(Buffer.from(value, 'utf8'), password, opts);
  return Buffer.from(pythonJson(ks), 'utf8').toString('hex');
}

export async function decryptSecretValue(hex: string, password: string): Promise<string> {
  const ks = JSON.parse(Buffer.from(hex.trim(), 'hex').toString('utf8')) as KeystoreV3;
  return (await decryptKeystore(ks, password)).toString('utf8');
}

/** The content of `conf/.password_verification` for a config password. */
export function passwordVerification(password: string, opts?: { rounds?: number }): Promise<string> {
  return encryptSecretValue(PASSWORD_VERIFICATION_WORD, password, opts);
}

/** JSON with Python's default separators (only strings, numbers and nested objects occur here). */
function pythonJson(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${pythonJson(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}
