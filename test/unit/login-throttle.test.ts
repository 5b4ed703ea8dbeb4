import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/core/principal.js';
import { LoginGate, type PasswordVerifier } from '../../src/core/auth/login.js';
import { addressKey, LoginThrottle } from '../../src/core/auth/login-throttle.js';
import { ManualClock } from '../../src/core/clock.js';

/** A verifier that knows one password per user and counts how often it was asked (each ask is a scrypt). */
class CountingVerifier implements PasswordVerifier {
  calls = 0;
  constructor(private readonly passwords: Record<string, string>) {}
  async verify(username: string, password: string): Promise<Principal | null> {
    this.calls++;
    return this.passwords[username] === password ? { name: username, role: 'trader' } : null;
  }
}

function setup(limits: { maxPerAddress?: number; maxPerUser?: number; windowMs?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const throttle = new LoginThrottle(clock, { maxPerAddress: 5, maxPerUser: 12, windowMs: 60_000, ...limits });
  const verifier = new CountingVerifier({ alice: 'alice-password', bob: 'bob-password' });
  return { gate: new LoginGate(throttle, verifier), verifier, clock };
}

describe('login throttle', () => {
  it('keeps admitting a user who logged in from an address when another client there exhausts it, up to that user\'s own failures', async () => {
    const { gate, verifier } = setup();
    expect((await gate.login('alice', 'alice-password', '127.0.0.1')).ok).toBe(true);
    // A stale client on the same machine with bob's old password uses up the address's allowance.
    for (let i = 0; i < 5; i++) expect(await gate.login('bob', 'old', '127.0.0.1')).toEqual({ ok: false, reason: 'credentials' });
    expect(await gate.login('bob', 'bob-password', '127.0.0.1')).toMatchObject({ ok: false, reason: 'throttled', scope: 'address' });
    // alice, known from this address, still gets in; an unknown user does not reach the verifier.
    expect(await gate.login('alice', 'alice-password', '127.0.0.1')).toMatchObject({ ok: true });
    const calls = verifier.calls;
    expect(await gate.login('carol', 'x', '127.0.0.1')).toMatchObject({ ok: false, reason: 'throttled', scope: 'address' });
    expect(verifier.calls).toBe(calls);
    // Guessing alice's password from there is still bounded by alice's own failures (12 here).
    for (let i = 0; i < 12; i++) expect(await gate.login('alice', 'guess', '127.0.0.1')).toEqual({ ok: false, reason: 'credentials' });
    expect(await gate.login('alice', 'alice-password', '127.0.0.1')).toMatchObject({ ok: false, reason: 'throttled', scope: 'address' });
    expect(verifier.calls).toBe(calls + 12);
  });

  it('refuses an address after its failures, without running the verifier, with a Retry-After to the window end', async () => {
    const { gate, verifier, clock } = setup();
    for (let i = 0; i < 5; i++) expect(await gate.login('alice', 'wrong', '10.0.0.1')).toEqual({ ok: false, reason: 'credentials' });
    expect(verifier.calls).toBe(5);
    clock.advance(10_000);
    const refused = await gate.login('alice', 'wrong', '10.0.0.1');
    expect(refused).toEqual({ ok: false, reason: 'throttled', scope: 'address', retryAfterS: 50 });
    // The right password from the throttled address is refused too, and still costs no verification.
    expect((await gate.login('alice', 'alice-password', '10.0.0.1')).ok).toBe(false);
    expect(verifier.calls).toBe(5);
    // Other addresses are not affected.
    expect(await gate.login('alice', 'alice-password', '10.0.0.2')).toEqual({ ok: true, principal: { name: 'alice', role: 'trader' } });
    // Once the oldest failure leaves the window, one more attempt is admitted.
    clock.advance(50_000);
    expect(await gate.login('alice', 'alice-password', '10.0.0.1')).toMatchObject({ ok: true });
  });

  it('counts a parallel burst before any attempt finishes: only the limit reaches the verifier', async () => {
    const { gate, verifier } = setup();
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => gate.login('alice', 'wrong', '10.0.0.1')));
    expect(verifier.calls).toBe(5);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'throttled')).toHaveLength(11);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'credentials')).toHaveLength(5);
  });

  it('locks a username under a distributed attack, except from addresses its owner has logged in from', async () => {
    const { gate, verifier } = setup();
    expect((await gate.login('alice', 'alice-password', '192.168.1.7')).ok).toBe(true); // alice's usual address
    for (let a = 1; a <= 3; a++) for (let i = 0; i < 4; i++) await gate.login('alice', 'wrong', `10.0.0.${a}`);
    expect(verifier.calls).toBe(13);
    const fresh = await gate.login('alice', 'alice-password', '10.0.9.9');
    expect(fresh).toMatchObject({ ok: false, reason: 'throttled', scope: 'user' });
    expect(verifier.calls).toBe(13);
    expect(await gate.login('alice', 'alice-password', '192.168.1.7')).toMatchObject({ ok: true });
    // Another user from a fresh address is unaffected.
    expect(await gate.login('bob', 'bob-password', '10.0.9.9')).toMatchObject({ ok: true });
  });

  it("a success clears the user's failures and withdraws its own mark from the address", async () => {
    const { gate, verifier } = setup({ maxPerAddress: 3, maxPerUser: 3 });
    await gate.login('alice', 'wrong', '10.0.0.1');
    await gate.login('alice', 'wrong', '10.0.0.1');
    for (let i = 0; i < 10; i++) expect((await gate.login('alice', 'alice-password', '10.0.0.1')).ok).toBe(true);
    // The address keeps its two failures; alice, now known there, is bounded by her own (cleared) count.
    for (let i = 0; i < 3; i++) expect(await gate.login('alice', 'wrong', '10.0.0.1')).toEqual({ ok: false, reason: 'credentials' });
    expect(await gate.login('alice', 'wrong', '10.0.0.1')).toMatchObject({ reason: 'throttled' });
    expect(await gate.login('bob', 'bob-password', '10.0.0.1')).toMatchObject({ reason: 'throttled', scope: 'address' });
    expect(verifier.calls).toBe(15);
  });

  it('does not count an attempt whose check failed for another reason (database down)', async () => {
    const throttle = new LoginThrottle(new ManualClock(0), { maxPerAddress: 2 });
    const gate = new LoginGate(throttle, { verify: async () => Promise.reject(new Error('database down')) });
    for (let i = 0; i < 5; i++) await expect(gate.login('alice', 'x', '10.0.0.1')).rejects.toThrow('database down');
    const ok = new LoginGate(throttle, new CountingVerifier({ alice: 'p' }));
    expect(await ok.login('alice', 'p', '10.0.0.1')).toMatchObject({ ok: true });
  });

  it('tells the success hooks, and only on success', async () => {
    const { gate } = setup();
    const seen: string[] = [];
    gate.onSuccess((p) => seen.push(p.name));
    await gate.login('alice', 'wrong', '10.0.0.1');
    await gate.login('bob', 'bob-password', '10.0.0.1');
    expect(seen).toEqual(['bob']);
  });

  it('keeps memory bounded under a spray of usernames and addresses', async () => {
    const clock = new ManualClock(0);
    const throttle = new LoginThrottle(clock, { maxKeys: 100 });
    for (let i = 0; i < 5000; i++) {
      const a = throttle.begin(`user${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (a.admitted) i % 2 ? a.attempt.failed() : a.attempt.succeeded();
      clock.advance(1);
    }
    expect(throttle.stats()).toEqual({ addresses: 100, users: 100, trustedUsers: 100 });
  });
});

describe('addressKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('a connection\'s remembered login', () => {
  class GenerationVerifier extends CountingVerifier {
    generation = 0;
  }
  const HEADER = 'Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=';
  function gateWithGeneration() {
    const clock = new ManualClock(1_000_000);
    const verifier = new GenerationVerifier({ alice: 'alice-password' });
    return { gate: new LoginGate(new LoginThrottle(clock), verifier, clock), verifier, clock };
  }

  it('answers the same header on the same connection for a minute, and nothing else', () => {
    const { gate, clock } = gateWithGeneration();
    const conn = {};
    const alice: Principal = { name: 'alice', role: 'trader' };
    expect(gate.remembered(conn, HEADER)).toBeUndefined();
    gate.remember(conn, HEADER, alice);
    expect(gate.remembered(conn, HEADER)).toEqual(alice);
    expect(gate.remembered({}, HEADER)).toBeUndefined();
    expect(gate.remembered(conn, `${HEADER}x`)).toBeUndefined();
    clock.advance(60_000);
    expect(gate.remembered(conn, HEADER)).toBeUndefined();
  });

  it('is forgotten as soon as any user changes (the verifier\'s generation moves)', () => {
    const { gate, verifier } = gateWithGeneration();
    const conn = {};
    gate.remember(conn, HEADER, { name: 'alice', role: 'trader' });
    verifier.generation++;
    expect(gate.remembered(conn, HEADER)).toBeUndefined();
  });

  it('is never kept when the verifier has no generation to invalidate it by', () => {
    const { gate } = setup();
    const conn = {};
    gate.remember(conn, HEADER, { name: 'alice', role: 'trader' });
    expect(gate.remembered(conn, HEADER)).toBeUndefined();
  });
});
