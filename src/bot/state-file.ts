import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The bot's own state on disk (TRADEDESK_BOT_STATE_DIR), one JSON file. It is replaced whole: written
 * to a temporary file beside it, then renamed over it, so a crash or a kill mid-write leaves the last
 * complete state, never half of one.
 */
const FILE = 'bot-state.json';

export class StateFile {
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {}

  get path(): string {
    return join(this.dir, FILE);
  }

  /** The saved state, or null when there is none yet. An unreadable file is an error: the bot must not silently forget its executors. */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new Error(`the bot state in ${this.path} is not JSON (${(err as Error).message}); move it away to start afresh`);
    }
  }

  /** Replaces the state; writes never overlap (the last one asked for is the one left). */
  save(state: unknown): Promise<void> {
    const text = JSON.stringify(state);
    const next = this.#writing.then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.path);
    });
    this.#writing = next.catch(() => undefined);
    return next;
  }
}
