import { isSecretKey, MASK, redactText } from '../core/secrets/redact.js';

/**
 * The last redaction pass before a result or an error reaches a model, with the core's two rules
 * (src/core/secrets/redact.ts): every secret value the vault has handed out is masked wherever it
 * appears, and a field whose name looks secret is masked.
 *
 * Differences from the core's redactValue, both because a success result must still match the tool's
 * outputSchema (the client rejects it otherwise):
 *   - in a success result only strings under a secret-looking field are masked, so types stay intact
 *     (`requires_credentials: true` stays a boolean); in an error every value under it is masked;
 *   - a few fields look secret by name but are handed to the model on purpose (NOT_SECRET_FIELDS).
 */

/**
 * Reviewed one by one: `confirmation_token` is the single-use token the model must send back to
 * confirm an order (masking it would make confirmation impossible) and `token_expires_at` its expiry;
 * `credential_fields` lists the names of the fields a connector needs, not their values;
 * `requires_credentials` is a flag. A unit test lists every secret-looking output field, so a new one
 * is a decision, not an accident.
 */
export const NOT_SECRET_FIELDS: ReadonlySet<string> = new Set(['confirmation_token', 'token_expires_at', 'credential_fields', 'requires_credentials']);

export type RedactMode = 'result' | 'error';

/**
 * Whether `json` (the serialized value) may need redaction. Cheap on large results: the secret-key
 * pattern runs once over the whole text (it is unanchored, so any key or value containing "token",
 * "secret"… matches; false positives only cost a walk), and redactText returns its input unchanged
 * unless a registered secret occurs in it (at once when none is registered). A backslash means JSON
 * escaping, under which a secret holding `"` or `\` would not appear verbatim: walk then too.
 */
export function mayNeedRedaction(json: string): boolean {
  return isSecretKey(json) || redactText(json) !== json || json.includes('\\');
}

export function redactForModel<T>(value: T, mode: RedactMode): T {
  const walk = (v: unknown, underSecret: boolean): unknown => {
    if (typeof v === 'string') return underSecret ? MASK : redactText(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, underSecret));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const secret = underSecret || (isSecretKey(k) && !NOT_SECRET_FIELDS.has(k));
      // An error has no schema to keep: hide the whole value, as the core does for logs and audit rows.
      out[k] = secret && mode === 'error' && x !== null && x !== undefined ? MASK : walk(x, secret);
    }
    return out;
  };
  return walk(value, false) as T;
}
