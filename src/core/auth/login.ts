import type { Clock } from '../clock.js';
import type { Principal } from '../principal.js';
import type { LoginThrottle } from './login-throttle.js';

/** What checks a password: the Authenticator, or a counting fake in tests. */
export interface PasswordVerifier {
  verify(username: string, password: string): Promise<Principal | null>;
  /** Bumped by every user change (absent: logins are never remembered per connection). */
  readonly generation?: number;
}

/** How long a connection's login is remembered: the throttle's trust refresh and the like run at least this often. */
const CONNECTION_MEMO_MS = 60_000;

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
  readonly #byConnection = new WeakMap<object, { header: string; principal: Principal; generation: number; until: number }>();

  constructor(
    private readonly throttle: LoginThrottle,
    private readonly verifier: PasswordVerifier,
    private readonly clock?: Clock,
  ) {}

  /**
   * The principal a keep-alive connection logged in as, when it sends the very same Authorization header
   * again within a minute and no user has changed since (a change bumps the verifier's generation, so
   * revocation still wins at once). A client polling over one connection then pays for its login once a
   * minute, not on every request. The entry lives with the connection (another connection never sees it).
   */
  remembered(connection: object, header: string): Principal | undefined {
    const m = this.#byConnection.get(connection);
    if (!m || m.header !== header || m.generation !== this.verifier.generation || !this.clock || m.until <= this.clock.now()) return undefined;
    return m.principal;
  }

  /** Remembers a successful login on `connection` (see remembered). */
  remember(connection: object, header: string, principal: Principal): void {
    const generation = this.verifier.generation;
    if (generation === undefined || !this.clock) return;
    this.#byConnection.set(connection, { header, principal, generation, until: this.clock.now() + CONNECTION_MEMO_MS });
  }

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
