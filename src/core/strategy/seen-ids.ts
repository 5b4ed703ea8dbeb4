/**
 * A set of ids used before, for ids that mostly come numbered in sequence: the order ids a backtest's
 * venue is sent and the executor ids a runtime hands out (`<prefix>o1`, `<prefix>o2`, …). Those are
 * kept as one run, a prefix and the range of numbers after it: no hashing and no growing table (a Set
 * of every id cost a few percent of a backtest). Any other id goes to a Set. An id is in the run or in
 * the Set, never both.
 */
export class SeenIds {
  /** The run: ids `prefix + n` for first ≤ n ≤ last, n written without leading zeros. */
  private prefix: string | null = null;
  private first = 0;
  private last = 0;
  private readonly others = new Set<string>();

  /** Records `id`; false when it was recorded before. */
  add(id: string): boolean {
    const at = numberAt(id);
    if (at >= 0) {
      const n = numberFrom(id, at);
      if (this.prefix === null) {
        if (this.inOthers(id)) return false;
        this.prefix = id.slice(0, at);
        this.first = this.last = n;
        return true;
      }
      if (at === this.prefix.length && id.startsWith(this.prefix)) {
        if (n >= this.first && n <= this.last) return false;
        if (n === this.last + 1 && !this.inOthers(id)) {
          this.last = n;
          return true;
        }
      }
    }
    if (this.inOthers(id)) return false;
    this.others.add(id);
    return true;
  }

  has(id: string): boolean {
    const at = numberAt(id);
    if (at >= 0 && this.prefix !== null && at === this.prefix.length && id.startsWith(this.prefix)) {
      const n = numberFrom(id, at);
      if (n >= this.first && n <= this.last) return true;
    }
    return this.inOthers(id);
  }

  /** Forgets an id kept in the Set (for memory, once what it named is gone); an id of the run stays used. */
  delete(id: string): void {
    this.others.delete(id);
  }

  private inOthers(id: string): boolean {
    return this.others.size > 0 && this.others.has(id);
  }
}

/**
 * Where the number that ends `id` starts (the index of its first digit), or -1 when the id does not end
 * in a number written without leading zeros, or in one too long to be exact as a double.
 */
function numberAt(id: string): number {
  let i = id.length;
  while (i > 0) {
    const c = id.charCodeAt(i - 1);
    if (c < 48 || c > 57) break;
    i--;
  }
  const digits = id.length - i;
  if (digits === 0 || digits > 15 || (digits > 1 && id.charCodeAt(i) === 48)) return -1;
  return i;
}

function numberFrom(id: string, at: number): number {
  let n = 0;
  for (let i = at; i < id.length; i++) n = n * 10 + (id.charCodeAt(i) - 48);
  return n;
}
