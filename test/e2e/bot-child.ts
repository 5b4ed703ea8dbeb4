import { spawn, type ChildProcess } from 'node:child_process';
import { cleanEnv, MAIN, ROOT } from './dist.js';

/** A `tradedesk bot` process of the built CLI, started as the child runtime would, its output kept. */
export interface BotChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

export function spawnBot(env: Record<string, string>): BotChild {
  const child = spawn(process.execPath, [MAIN, 'bot'], { env: cleanEnv(env), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}
