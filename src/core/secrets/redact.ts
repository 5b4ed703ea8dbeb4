/**
 * Redaction for anything that leaves the process as text (logs, audit rows, error details).
 * Two layers: keys that name a secret are masked wherever they appear in a structure, and
 * every secret value the vault has handed out in this process is masked wherever it appears in text.
 */
const SECRET_KEY = /(secret|password|passphrase|api[_-]?key|apikey|private[_-]?key|privatekey|token|authorization|credential|twofa|mnemonic|seed)/i;
export const MASK = '***';

const knownSecrets = new Set<string>();

/** Remembers a secret value so that it is masked in every later log line or output. */
export function registerSecret(value: string): void {
  if (value.length >= 6) knownSecrets.add(value);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A secret-looking key hides its whole value, objects included: a misspelled field inside
      // `credentials` must not slip through.
      out[k] = isSecretKey(k) && v !== null && v !== undefined ? MASK : redactValue(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string') return redactText(value);
  return value;
}

/**
 * `value` with every known secret's text masked, keys left as they are: for what must run as given (a
 * job's input, whose controller config may well name a field `random_seed`) yet never keep a real
 * credential pasted into it.
 */
export function maskKnownSecrets(value: unknown): unknown {
  if (knownSecrets.size === 0) return value;
  if (Array.isArray(value)) return value.map(maskKnownSecrets);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskKnownSecrets(v)]));
  if (typeof value === 'string') return redactText(value);
  return value;
}

export function redactText(text: string): string {
  if (knownSecrets.size === 0) return text;
  let out = text;
  for (const s of knownSecrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** Shows enough of a secret to recognise it (`abcd…wxyz`), never enough to use it. */
export function maskSecret(value: string): string {
  if (value.length <= 8) return MASK;
  return `${value.slice(0, 3)}${MASK}${value.slice(-3)}`;
}
