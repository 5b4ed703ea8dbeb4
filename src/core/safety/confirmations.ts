import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { TradeIntent } from '../trade-intent.js';
import { Decimal } from '../decimal.js';

export const TOKEN_TTL_MS = 60_000;

/**
 * The exact order a token confirms: who, where, what, how much, at what price. A token is valid only for
 * the same canonical fields, so a changed amount, side, pair or price needs a new preview.
 */
export function orderBinding(principal: string, t: TradeIntent): string {
  const canon = [
    principal,
    t.account,
    t.connector,
    t.pair.toUpperCase(),
    t.side ?? '',
    t.orderType ?? '',
    t.amount ? new Decimal(t.amount).toFixed() : '',
    t.price ? new Decimal(t.price).toFixed() : '',
    t.positionAction ?? '',
    t.leverage ?? '',
  ].join('|');
  return createHash('sha256').update(canon).digest('base64url');
}

/**
 * Single-use confirmation tokens: HMAC-signed `{nonce, expiry, binding}` with a key that lives only in
 * this process (a restart invalidates every outstanding token, which is the safe direction). Redeemed
 * nonces are remembered until they expire, so a token works once.
 */
export class ConfirmationTokens {
  readonly #key = randomBytes(32);
  readonly #used = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  issue(binding: string): { token: string; expires_at: Date } {
    const exp = this.clock.now() + TOKEN_TTL_MS;
    const payload = Buffer.from(JSON.stringify({ n: randomBytes(12).toString('base64url'), e: exp, b: binding })).toString('base64url');
    return { token: `ct1.${payload}.${this.#sign(payload)}`, expires_at: new Date(exp) };
  }

  /** Checks and consumes the token for this binding, or throws a code saying exactly what is wrong with it. */
  redeem(token: string, binding: string): void {
    const body = this.verify(token, binding);
    this.#used.set(body.n, body.e);
  }

  /**
   * Checks the token for this binding without consuming it: signature, reuse, expiry, then the order it
   * was issued for. Throws the code that names the problem.
   */
  verify(token: string, binding: string): { n: string; e: number } {
    const body = this.#verified(token);
    if (!body) {
      throw new AppError('CONFIRMATION_MISMATCH', 'The confirmation_token was not issued by this server (or the server restarted since).', {
        hint: 'Call trading_preview_order with the same order fields and pass the confirmation_token it returns.',
      });
    }
    const now = this.clock.now();
    this.#prune(now);
    if (this.#used.has(body.n)) {
      throw new AppError('CONFIRMATION_REUSED', 'This confirmation_token was already used; each token confirms one order once.', {
        hint: 'To place another order, preview it again and confirm the new token with the user.',
      });
    }
    if (now > body.e) {
      throw new AppError('CONFIRMATION_EXPIRED', `The confirmation_token expired at ${new Date(body.e).toISOString()}; tokens are valid for ${TOKEN_TTL_MS / 1000} s.`, {
        hint: 'Preview the order again, confirm it with the user, then place it at once.',
        details: { expired_at: new Date(body.e).toISOString() },
      });
    }
    if (body.b !== binding) {
      throw new AppError('CONFIRMATION_MISMATCH', 'The confirmation_token was issued for a different order than this one.', {
        hint: 'A token confirms one exact order (account, connector, pair, side, type, amount, price, leverage). Preview the order you mean to place and use its token.',
      });
    }
    return body;
  }

  /** The token's payload when its signature is ours, else null; never throws on malformed input. */
  #verified(token: string): { n: string; e: number; b: string } | null {
    const m = /^ct1\.([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return null;
    const [, payload, sig] = m as unknown as [string, string, string];
    if (!timingSafeEqual(Buffer.from(sig), Buffer.from(this.#sign(payload)))) return null;
    try {
      const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { n?: unknown; e?: unknown; b?: unknown };
      return typeof body.n === 'string' && typeof body.e === 'number' && typeof body.b === 'string' ? (body as { n: string; e: number; b: string }) : null;
    } catch {
      return null;
    }
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  #prune(now: number): void {
    for (const [n, e] of this.#used) if (e < now) this.#used.delete(n);
  }
}
