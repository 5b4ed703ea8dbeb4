/**
 * Values by string id, in insertion order, for the books that stay small and churn as orders and
 * executors come and go: an executor's working orders, a runtime's order owners and active executors.
 * A few entries are found by a scan, which beats hashing the id; a small Map reallocates its table as
 * it empties and fills again, and an array shrinks its store when emptied: a backtest does that a few
 * times per executor. So the slots stay (the count says how many are in use), and past INDEX_ABOVE
 * entries (a grid's hundreds of levels) a Map index is kept beside them.
 */
const INDEX_ABOVE = 16;

export class IdBook<V> {
  // Four slots to start with, what an executor's book needs (an empty array's first append reserves 17).
  private readonly ids: Array<string | undefined> = [undefined, undefined, undefined, undefined];
  private readonly vals: Array<V | undefined> = [undefined, undefined, undefined, undefined];
  private n = 0;
  private index: Map<string, V> | null = null;

  get size(): number {
    return this.n;
  }

  /** The value in place `i` (0 ≤ i < size), for a scan that copies nothing. */
  at(i: number): V {
    return this.vals[i] as V;
  }

  get(id: string): V | undefined {
    if (this.index !== null) return this.index.get(id);
    const i = this.find(id);
    return i < 0 ? undefined : this.vals[i];
  }

  /** Adds the entry, or replaces the value of an id already here (keeping its place). */
  set(id: string, value: V): this {
    const i = this.index !== null && !this.index.has(id) ? -1 : this.find(id);
    if (i >= 0) this.vals[i] = value;
    else {
      this.ids[this.n] = id;
      this.vals[this.n] = value;
      this.n++;
    }
    if (this.index !== null) this.index.set(id, value);
    else if (this.n > INDEX_ABOVE) this.index = new Map(this.entries());
    return this;
  }

  delete(id: string): boolean {
    if (this.index !== null && !this.index.delete(id)) return false;
    const i = this.find(id);
    if (i < 0) return false;
    for (let j = i + 1; j < this.n; j++) {
      this.ids[j - 1] = this.ids[j];
      this.vals[j - 1] = this.vals[j];
    }
    this.n--;
    // The freed slot lets go of its value; the slot itself stays for the next entry.
    this.ids[this.n] = undefined;
    this.vals[this.n] = undefined;
    // Small again: back to scanning (the index would only churn).
    if (this.index !== null && this.n <= INDEX_ABOVE / 2) this.index = null;
    return true;
  }

  /** The ids, in insertion order (a copy: the book may change while the caller walks it). */
  keys(): string[] {
    return this.ids.slice(0, this.n) as string[];
  }

  /** The values, in insertion order (a copy). */
  values(): V[] {
    return this.vals.slice(0, this.n) as V[];
  }

  entries(): Array<[string, V]> {
    const out: Array<[string, V]> = [];
    for (let i = 0; i < this.n; i++) out.push([this.ids[i]!, this.vals[i] as V]);
    return out;
  }

  private find(id: string): number {
    for (let i = 0; i < this.n; i++) if (this.ids[i] === id) return i;
    return -1;
  }
}
