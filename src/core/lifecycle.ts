/**
 * What a module that owns background work or a resource exposes to the composition root: `start`
 * recovers its state and starts its loops; `stop` ends them and lets go of what it holds. The root
 * starts modules in the order it wires them and stops them in reverse, so nothing is stopped while
 * something started after it still uses it.
 */
export interface Lifecycle {
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}
