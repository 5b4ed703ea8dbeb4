import { describe, expect, it } from 'vitest';
import { decryptKeystore, decryptSecretValue, encryptKeystore, passwordVerification, PBKDF2_ROUNDS, type KeystoreV3 } from '../../../src/core/bots/hummingbot/keystore.js';

/**
 * The PBKDF2 test vector of the Web3 Secret Storage definition (ethereum.org): password
 * "testpassword", secret 7a28b5ba…fe9d. Decrypting it checks PBKDF2-HMAC-SHA256, AES-128-CTR and the
 * keccak-256 MAC against the format's own numbers; encrypting with its salt and iv gives its bytes back.
 */
const VECTOR: KeystoreV3 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  version: 3,
};
const SECRET = '7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';

describe('keystore v3 (Hummingbot secrets and password verification)', () => {
  it('decrypts the Web3 Secret Storage PBKDF2 vector', async () => {
    expect((await decryptKeystore(VECTOR, 'testpassword')).toString('hex')).toBe(SECRET);
  });

  it('encrypts to the vector with its salt and iv', async () => {
    const ks = await encryptKeystore(Buffer.from(SECRET, 'hex'), 'testpassword', { rounds: 262144, salt: Buffer.from(VECTOR.crypto.kdfparams.salt, 'hex'), iv: Buffer.from(VECTOR.crypto.cipherparams.iv, 'hex') });
    expect(ks.crypto).toEqual(VECTOR.crypto);
  });

  it('refuses a wrong password with a MAC mismatch', async () => {
    await expect(decryptKeystore(VECTOR, 'wrongpassword')).rejects.toThrow('MAC mismatch');
  });

  it('writes the password verification file as Hummingbot does: hex of the keystore JSON of "HummingBot", default work factor', async () => {
    const hex = await passwordVerification('s3cret-config-pw');
    expect(hex).toMatch(/^[0-9a-f]+$/);
    const json = Buffer.from(hex, 'hex').toString('utf8');
    // Python's json.dumps separators, as Hummingbot's file has them.
    expect(json).toMatch(/^\{"crypto": \{"cipher": "aes-128-ctr", "cipherparams": \{"iv": "[0-9a-f]{32}"\}/);
    const ks = JSON.parse(json) as KeystoreV3;
    expect(ks).toMatchObject({ version: 3, crypto: { kdf: 'pbkdf2', kdfparams: { c: PBKDF2_ROUNDS, dklen: 32, prf: 'hmac-sha256' } } });
    expect(await decryptSecretValue(hex, 's3cret-config-pw')).toBe('HummingBot');
    await expect(decryptSecretValue(hex, 'other')).rejects.toThrow('MAC mismatch');
  }, 30_000);
});
