/**
 * CPU time of one process of this machine from /proc (Linux only): the process listening on a TCP
 * port (an external broker such as Mosquitto), and this process's children. It lets a benchmark take a
 * broker's or a child's work out of the machine's "other" figure, where it would read as disturbance.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICK_US = 10_000; // USER_HZ is 100 on Linux

/** User + system CPU time of `pid` in µs; undefined when it cannot be read (gone, not Linux). */
export function procCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it follow the last ")".
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US; // utime and stime are fields 14 and 15
  } catch {
    return undefined;
  }
}

/** The pid of the process listening on 127.0.0.1 or any address at `port` (IPv4), or undefined. */
export function listenerPid(port: number): number | undefined {
  let inode: string | undefined;
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is field 1 (ADDR:PORT in hex), st is field 3 (0A = LISTEN), inode is field 9.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A') {
        inode = f[9];
        break;
      }
    }
  } catch {
    return undefined;
  }
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`) === target) return Number(name);
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return undefined;
}

/** The pids of this process's direct children (every thread's list, as /proc keeps them per thread). */
export function childPids(pid = process.pid): number[] {
  const out = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.add(Number(c));
    }
  } catch {
    /* not Linux */
  }
  return [...out];
}

/** A CPU meter of one process: `stop()` gives its CPU time over the window in µs (NaN when unreadable). */
export function processMeter(pid: number | undefined): { stop(): number } {
  const t0 = pid === undefined ? undefined : procCpuUs(pid);
  return {
    stop: () => {
      const t1 = pid === undefined ? undefined : procCpuUs(pid);
      return t0 === undefined || t1 === undefined ? NaN : t1 - t0;
    },
  };
}
