import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BOT_EXIT_WITH_PARENT_ENV, BOT_PASSWORD_ENV, BOT_SPEC_ENV, BOT_STATE_DIR_ENV, TAIL_LINES, type BotExit, type BotLaunch, type BotRuntime } from './runtime.js';

/**
 * Bots as child processes of the server: the runtime with nothing to install. Each bot is one process
 * of the bot command (`tradedesk bot`), told what to run through its environment (runtime.ts), its
 * stdout and stderr read line by line and the last lines kept for a crash report.
 *
 * A child process cannot outlive the server usefully (nothing could take it back), so `reattach` is
 * always false and `close` ends the children: a restarted server launches again the bots meant to run.
 * The bot's stdin is a pipe the server never writes: it closes when the server dies, however it dies
 * (SIGKILL too), and the bot, told so by TRADEDESK_BOT_EXIT_WITH_PARENT=1, then saves its state and
 * ends itself instead of running on unattended; the next server start launches it again and it resumes.
 */

/** Longest line kept from a bot's output: a runaway line must not fill the server's memory. */
const MAX_LINE = 2_000;

/**
 * Variables of the server's environment a bot never gets: the database, the vault key, the API's
 * admin login and the broker's admin URL. A bot holds no secret but its own broker login.
 */
const WITHHELD = new Set(['DATABASE_URL', 'VAULT_KEY', 'API_USERNAME', 'API_PASSWORD', 'MQTT_URL', 'PGPASSWORD', 'PGUSER', 'PGHOST', 'PGDATABASE', 'DOCKER_AUTH_CONFIG']);
/** And anything whose name says it holds a secret. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY($|_)/i;

export interface ChildRuntimeOptions {
  /** The bot command and its arguments (or, per launch, a function choosing them); default: this install's `tradedesk bot` under the running node. */
  command?: readonly string[] | ((l: BotLaunch) => readonly string[]);
  /** The environment bots inherit, withheld variables removed (default: the server's). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the bots (default: the server's). */
  cwd?: string;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/** The default bot command: the `main.js` built beside this file, run by the node running the server. */
export function defaultBotCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../main.js', import.meta.url)), 'bot'];
}

/** The server's environment as a bot may see it. */
export function botEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined || WITHHELD.has(k.toUpperCase()) || SECRET_NAME.test(k) || k.startsWith('TRADEDESK_BOT')) continue;
    env[k] = v;
  }
  return env;
}

interface Child {
  proc: ChildProcess;
  tail: string[];
  /** Resolves once the process has ended and its output is read. */
  ended: Promise<void>;
}

export class ChildRuntime implements BotRuntime {
  readonly kind = 'child' as const;
  readonly #children = new Map<string, Child>();
  readonly #listeners: Array<(exit: BotExit) => void> = [];
  readonly #command: (l: BotLaunch) => readonly string[];

  constructor(private readonly o: ChildRuntimeOptions) {
    const c = o.command ?? defaultBotCommand();
    this.#command = typeof c === 'function' ? c : () => c;
  }

  async available(): Promise<boolean> {
    return true;
  }

  async launch(l: BotLaunch): Promise<void> {
    const id = l.spec.bot_id;
    if (this.#children.has(id)) throw new AppError('CONFLICT', `Bot ${id} already runs as a child process.`, { hint: 'Stop it first.' });
    mkdirSync(l.stateDir, { recursive: true, mode: 0o700 });
    const env = {
      ...botEnvironment(this.o.env ?? process.env),
      [BOT_SPEC_ENV]: JSON.stringify(l.spec),
      [BOT_PASSWORD_ENV]: l.password,
      [BOT_STATE_DIR_ENV]: l.stateDir,
      // Its stdin is the pipe below: it ends itself when the server dies (src/bot/main.ts).
      [BOT_EXIT_WITH_PARENT_ENV]: '1',
    };
    const [file, ...args] = this.#command(l);
    if (!file) throw new AppError('PRECONDITION_FAILED', `The bot command for ${id} is empty.`);
    const proc = spawn(file!, args, { env, cwd: this.o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let endedResolve!: () => void;
    const child: Child = { proc, tail, ended: new Promise((r) => (endedResolve = r)) };
    // Registered before the spawn settles, so a second launch of the same id meanwhile is refused.
    this.#children.set(id, child);
    keepTail(proc.stdout!, tail);
    keepTail(proc.stderr!, tail);
    proc.stdin!.on('error', () => undefined); // a bot that closed its stdin: nothing to report
    try {
      await new Promise<void>((resolve, reject) => {
        proc.once('spawn', resolve);
        proc.once('error', reject);
      });
    } catch (err) {
      this.#children.delete(id);
      throw new AppError('UPSTREAM_UNAVAILABLE', `Could not start bot ${id}: ${(err as Error).message}.`, {
        hint: 'Check the bot command (is this install built?) or deploy the bot on the docker runtime.',
      });
    }
    // 'close' comes after the exit and the end of its output, so the tail is complete.
    proc.once('close', (code, signal) => {
      if (this.#children.get(id) === child) this.#children.delete(id);
      endedResolve();
      const exit: BotExit = { botId: id, code, signal, tail: [...tail] };
      for (const listener of this.#listeners) {
        try {
          listener(exit);
        } catch (err) {
          this.o.logger.warn('a bot exit listener failed', { bot_id: id, err });
        }
      }
    });
    this.o.logger.info('bot process started', { bot_id: id, pid: proc.pid });
  }

  async stop(botId: string, graceMs: number): Promise<void> {
    const child = this.#children.get(botId);
    if (!child) return;
    const { proc } = child;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) {
        this.o.logger.warn('bot did not end on SIGTERM; killing it', { bot_id: botId, grace_ms: graceMs });
        proc.kill('SIGKILL');
      }
    }, graceMs);
    try {
      await child.ended;
    } finally {
      clearTimeout(timer);
    }
  }

  async reattach(_botId: string): Promise<boolean> {
    return false;
  }

  async running(botId: string): Promise<boolean> {
    return this.#children.has(botId);
  }

  onExit(listener: (exit: BotExit) => void): void {
    this.#listeners.push(listener);
  }

  async remove(botId: string): Promise<void> {
    await this.stop(botId, 5_000);
  }

  /** Ends every child (SIGTERM, then SIGKILL after 5 s): a child process cannot be taken back by the next server. */
  async close(): Promise<void> {
    await Promise.all([...this.#children.keys()].map((id) => this.stop(id, 5_000)));
  }
}

/** Appends complete lines of `stream` to `tail`, keeping the last TAIL_LINES; a line cut by a chunk waits for its end. */
function keepTail(stream: NodeJS.ReadableStream, tail: string[]): void {
  let partial = '';
  const push = (line: string) => {
    tail.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split(/\r?\n/);
    partial = lines.pop() ?? '';
    if (partial.length > MAX_LINE * 4) partial = partial.slice(0, MAX_LINE * 4);
    for (const line of lines) push(line);
  });
  stream.on('end', () => {
    if (partial) push(partial);
    partial = '';
  });
  stream.on('error', () => undefined);
}
