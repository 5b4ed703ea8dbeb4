import type { Principal } from '../principal.js';
import type { LoginThrottle } from './login-throttle.js';

/** What checks a password: the Authenticator, or a counting fake in tests. */
export interface PasswordVerifier {
  verify(username: string, password: string): Promise<Principal | null>;
}

export type LoginOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'credentials' }
  | { ok: false; reason: 'throttled'; retryAfterS: number; scope: 'address' | 'user' };

/**
 * Every Basic-auth check of every face goes through here: the throttle first (a refused attempt never
 * reaches scrypt), then the verifier, then the outcome recorded and the success hooks told.
 */
export class LoginGate {
  readonly #onSuccess: Array<(principal: Principal) => void> = [];

  constructor(
    private readonly throttle: LoginThrottle,
    private readonly verifier: PasswordVerifier,
  ) {}

  /** Runs `hook` after each successful login (e.g. to remove the generated admin password file). */
  onSuccess(hook: (principal: Principal) => void): void {
    this.#onSuccess.push(hook);
  }

  async login(username: string, password: string, address: string | undefined): Promise<LoginOutcome> {
    const admission = this.throttle.begin(username, address);
    if (!admission.admitted) return { ok: false, reason: 'throttled', retryAfterS: admission.retryAfterS, scope: admission.reason };
    let principal: Principal | null;
    try {
      principal = await this.verifier.verify(username, password);
    } catch (err) {
      // Not the caller's fault (e.g. the database is down): do not count it against them.
      admission.attempt.abandoned();
      throw err;
    }
    if (!principal) {
      admission.attempt.failed();
      return { ok: false, reason: 'credentials' };
    }
    admission.attempt.succeeded();
    for (const hook of this.#onSuccess) hook(principal);
    return { ok: true, principal };
  }
}
