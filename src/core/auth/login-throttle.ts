import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.js';

export interface LoginThrottleOptions {
  /** The sliding window failures are counted in. */
  windowMs: number;
  /** Failures from one address (any user) in the window before that address is refused. */
  maxPerAddress: number;
  /**
   * Failures for one username (from any address) in the window before the username is refused to
   * addresses it has not logged in from. Higher than maxPerAddress, so one noisy address is stopped
   * by its own limit first and a distributed attack cannot lock the owner out of a known address.
   */
  maxPerUser: number;
  /** How long an address a user logged in from stays trusted for that user. */
  trustMs: number;
  /** Upper bound on the addresses and usernames tracked, so a spray of names cannot grow memory. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  windowMs: 15 * 60_000,
  maxPerAddress: 10,
  maxPerUser: 30,
  trustMs: 7 * 24 * 3600_000,
  maxKeys: 10_000,
};

/** An attempt admitted by `begin`; settle it exactly once. */
export interface LoginAttempt {
  succeeded(): void;
  failed(): void;
  /** The check could not be made (e.g. the database is down): count nothing either way. */
  abandoned(): void;
}

export type Admission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterS: number; reason: 'address' | 'user' };

/**
 * Failed-login throttle, per address and per username, over a sliding window. It is consulted before
 * the password is verified, so a refused attempt costs nothing (no scrypt). An admitted attempt counts
 * as a failure from the moment it starts and is withdrawn when it succeeds: a burst of parallel
 * attempts cannot all slip in before the first failure is recorded. A success clears the user's
 * failures and trusts the address for that user.
 */
export class LoginThrottle {
  readonly #o: LoginThrottleOptions;
  readonly #byAddress = new Map<string, number[]>();
  readonly #byUser = new Map<string, number[]>();
  /** username → (address → time of its last successful login). */
  readonly #trusted = new Map<string, Map<string, number>>();
  /** Raw socket address → its throttle key. */
  readonly #keys = new Map<string, string>();

  constructor(
    private readonly clock: Clock,
    options: Partial<LoginThrottleOptions> = {},
  ) {
    this.#o = { ...DEFAULT_LOGIN_THROTTLE, ...options };
  }

  begin(username: string, rawAddress: string | undefined): Admission {
    const now = this.clock.now();
    const address = this.#addressKey(rawAddress);
    const byAddress = this.#recent(this.#byAddress, address, now);
    const byUser = this.#recent(this.#byUser, username, now);
    const trusted = this.#isTrusted(username, address, now);
    // A user who logged in from this address before keeps getting in when another client on the same
    // address (a stale script on the same machine, most often) exhausts the address's allowance: the
    // owner is not locked out by their own neighbour. That user's own failures still bound guessing.
    const addressFull = byAddress.length >= this.#o.maxPerAddress;
    if (addressFull && !(trusted && byUser.length < this.#o.maxPerUser)) {
      return { admitted: false, reason: 'address', retryAfterS: this.#retryAfter(byAddress, this.#o.maxPerAddress, now) };
    }
    if (byUser.length >= this.#o.maxPerUser && !trusted) {
      return { admitted: false, reason: 'user', retryAfterS: this.#retryAfter(byUser, this.#o.maxPerUser, now) };
    }
    const mark = now;
    this.#push(this.#byAddress, address, mark);
    this.#push(this.#byUser, username, mark);
    let settled = false;
    return {
      admitted: true,
      attempt: {
        failed: () => {
          settled = true;
        },
        succeeded: () => {
          if (settled) return;
          settled = true;
          withdraw(this.#byAddress.get(address), mark);
          this.#byUser.delete(username);
          this.#trust(username, address, this.clock.now());
        },
        abandoned: () => {
          if (settled) return;
          settled = true;
          withdraw(this.#byAddress.get(address), mark);
          withdraw(this.#byUser.get(username), mark);
        },
      },
    };
  }

  /** addressKey, remembered for the few addresses a server hears from (bounded like the rest). */
  #addressKey(raw: string | undefined): string {
    if (raw === undefined) return addressKey(raw);
    let key = this.#keys.get(raw);
    if (key === undefined) {
      key = addressKey(raw);
      this.#keys.set(raw, key);
      evictOldest(this.#keys, this.#o.maxKeys);
    }
    return key;
  }

  /** How many addresses, usernames and trusted users are tracked (bounded by maxKeys each). */
  stats(): { addresses: number; users: number; trustedUsers: number } {
    return { addresses: this.#byAddress.size, users: this.#byUser.size, trustedUsers: this.#trusted.size };
  }

  /** Failure times still inside the window for `key`, oldest first (expired ones dropped). */
  #recent(map: Map<string, number[]>, key: string, now: number): number[] {
    const list = map.get(key);
    if (!list) return [];
    const from = now - this.#o.windowMs;
    while (list.length && list[0]! <= from) list.shift();
    if (!list.length) map.delete(key);
    return list;
  }

  /** Seconds until enough failures leave the window for one more attempt to be admitted. */
  #retryAfter(list: number[], max: number, now: number): number {
    const freeing = list[list.length - max]!;
    return Math.max(1, Math.ceil((freeing + this.#o.windowMs - now) / 1000));
  }

  #push(map: Map<string, number[]>, key: string, t: number): void {
    const list = map.get(key) ?? [];
    map.delete(key); // re-inserted last: Map order is the eviction order, least recently failed first
    list.push(t);
    // Only the newest `max` failures can decide a refusal; older ones need not be kept.
    const keep = Math.max(this.#o.maxPerAddress, this.#o.maxPerUser);
    if (list.length > keep) list.splice(0, list.length - keep);
    map.set(key, list);
    evictOldest(map, this.#o.maxKeys);
  }

  #isTrusted(username: string, address: string, now: number): boolean {
    const t = this.#trusted.get(username)?.get(address);
    return t !== undefined && now - t < this.#o.trustMs;
  }

  #trust(username: string, address: string, now: number): void {
    const known = this.#trusted.get(username);
    // A dashboard logs in on every request: trust renewed within the last minute needs no renewal (it
    // lasts trustMs, days), and the maps are not reordered once per request.
    const last = known?.get(address);
    if (last !== undefined && now - last < TRUST_REFRESH_MS) return;
    const addresses = known ?? new Map<string, number>();
    this.#trusted.delete(username);
    addresses.delete(address);
    addresses.set(address, now);
    evictOldest(addresses, 16);
    this.#trusted.set(username, addresses);
    evictOldest(this.#trusted, this.#o.maxKeys);
  }
}

/** How stale a trusted address's time may get before a login renews it. */
const TRUST_REFRESH_MS = 60_000;

function withdraw(list: number[] | undefined, mark: number): void {
  const i = list?.lastIndexOf(mark) ?? -1;
  if (i >= 0) list!.splice(i, 1);
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K);
}

/**
 * The unit an address is throttled by. IPv4 (also when mapped into IPv6) is one address; IPv6 is its
 * /64, since one host usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!isIPv6(a)) return a;
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = a.includes('::') ? (tail ? tail.split(':') : []) : [];
  // A dotted IPv4 tail (::ffff:1.2.3.4 style) stands for two groups.
  const tailGroups = t.length + (t.at(-1)?.includes('.') ? 1 : 0);
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - tailGroups)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
