import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitFor } from './wait.js';

/** Debian's mosquitto 2 with its dynamic-security plugin and mosquitto_ctrl; null when one is missing. */
export function mosquittoInstall(): { bin: string; ctrl: string; plugin: string } | null {
  const which = (name: string, ...fallbacks: string[]) => {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : fallbacks.find((f) => existsSync(f));
  };
  const bin = which('mosquitto', '/usr/sbin/mosquitto');
  const ctrl = which('mosquitto_ctrl', '/usr/bin/mosquitto_ctrl');
  // /usr/lib/<multiarch triplet>/ on Debian, /usr/lib/ elsewhere.
  const libDirs = ['/usr/lib', ...readdirSync('/usr/lib', { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.includes('-linux-')).map((e) => join('/usr/lib', e.name))];
  const plugin = libDirs.map((d) => join(d, 'mosquitto_dynamic_security.so')).find((f) => existsSync(f));
  return bin && ctrl && plugin ? { bin, ctrl, plugin } : null;
}

export interface RunningMosquitto {
  port: number;
  admin: { username: string; password: string };
  /** Kills it (SIGKILL, as a crash) and starts it again on the same port with the same dynsec file. */
  restart(opts?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Mosquitto of the test's own on a free port: no anonymous access, the dynamic-security plugin loaded
 * from a file made by `mosquitto_ctrl dynsec init` with an admin user.
 */
export async function startMosquitto(install: NonNullable<ReturnType<typeof mosquittoInstall>>): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'td-mosquitto-'));
  const admin = { username: 'admin', password: `pw-${process.pid}-${Math.random().toString(36).slice(2)}` };
  const dynsec = join(dir, 'dynamic-security.json');
  const init = spawnSync(install.ctrl, ['dynsec', 'init', dynsec, admin.username, admin.password], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'persistence false',
      'set_tcp_nodelay true',
      // Started as root, mosquitto would switch to the mosquitto user, who cannot write the dynsec file here.
      `user ${userInfo().username}`,
      `plugin ${install.plugin}`,
      `plugin_opt_config_file ${dynsec}`,
      '',
    ].join('\n'),
  );
  const launch = async () => {
    const child: ChildProcess = spawn(install.bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => (log += String(d)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(`mosquitto listening on ${port}`, () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
      return /running/.test(log);
    });
    return { child, exited };
  };
  let running = await launch();
  return {
    port,
    admin,
    async restart(opts = {}) {
      running.child.kill('SIGKILL');
      await running.exited;
      await new Promise((r) => setTimeout(r, opts.downMs ?? 0));
      running = await launch();
    },
    async stop() {
      if (running.child.exitCode === null) running.child.kill('SIGTERM');
      await running.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
