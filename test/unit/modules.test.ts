import { describe, expect, it } from 'vitest';
import { Modules } from '../../src/app/modules.js';
import { createLogger } from '../../src/core/logger.js';

function recorder() {
  const log: string[] = [];
  const mod = (name: string, opts: { failStart?: boolean; failStop?: boolean } = {}) => ({
    start: async () => {
      log.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} cannot start`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
    },
  });
  return { log, mod };
}

describe('Modules: one list for start and stop', () => {
  it('starts in wiring order and stops in reverse, once', async () => {
    const { log, mod } = recorder();
    const m = new Modules(createLogger('silent'));
    m.add('db', mod('db'));
    m.add('trading', mod('trading'));
    m.add('jobs', mod('jobs'));
    await m.start();
    await Promise.all([m.stop(), m.stop()]);
    expect(log).toEqual(['start db', 'start trading', 'start jobs', 'stop jobs', 'stop trading', 'stop db']);
  });

  it('a failed start stops what started (and the failed module) and names the module', async () => {
    const { log, mod } = recorder();
    const m = new Modules(createLogger('silent'));
    m.add('db', mod('db'));
    m.add('trading', mod('trading', { failStart: true }));
    m.add('jobs', mod('jobs'));
    await expect(m.start()).rejects.toMatchObject({ message: 'trading cannot start', module: 'trading' });
    expect(log).toEqual(['start db', 'start trading', 'stop trading', 'stop db']);
  });

  it('a failed stop does not keep the others from stopping', async () => {
    const { log, mod } = recorder();
    const m = new Modules(createLogger('silent'));
    m.add('db', mod('db'));
    m.add('hub', mod('hub', { failStop: true }));
    await m.start();
    await m.stop();
    expect(log).toEqual(['start db', 'start hub', 'stop hub', 'stop db']);
  });
});
