/**
 * Counter-based randomness: every draw is a pure function of (stream key, indices), so any point of
 * the simulated history can be computed directly, in any order, and is the same on every machine.
 */

/** FNV-1a of a string, as the key of a random stream. */
export function streamKey(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A well-mixed 32-bit hash of a key and up to three integer indices. */
export function hash32(key: number, a: number, b = 0, c = 0): number {
  let h = key ^ Math.imul(a | 0, 0x9e3779b1) ^ Math.imul((a / 4294967296) | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h ^= Math.imul(b | 0, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= Math.imul(c | 0, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform in (0, 1). */
export function uniform(key: number, a: number, b = 0, c = 0): number {
  return (hash32(key, a, b, c) + 0.5) / 4294967296;
}

/** Standard normal (Box-Muller over two independent uniforms). */
export function normal(key: number, a: number, b = 0, c = 0): number {
  const u1 = uniform(key, a, b, c * 2 + 1);
  const u2 = uniform(key ^ 0x5bd1e995, a, b, c * 2 + 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
