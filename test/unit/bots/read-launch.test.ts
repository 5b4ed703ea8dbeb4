import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLaunch, SpecError } from '../../../src/bot/main.js';
import { BOT_PASSWORD_ENV, BOT_PASSWORD_FILE_ENV, BOT_SPEC_ENV } from '../../../src/core/bots/runtime.js';

const spec = { bot_id: 'b1', account: 'master_account', mqtt_url: 'mqtt://127.0.0.1:1883', mqtt_username: 'bot:b1', strategy: { script: { name: 'twap_buyer_v1', config: {} } } };

describe("a bot process's launch from its environment", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bot-launch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the password from the file the docker runtime writes, before the env variable', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\n', { mode: 0o600 });
    const env = { [BOT_SPEC_ENV]: JSON.stringify(spec), [BOT_PASSWORD_FILE_ENV]: file, [BOT_PASSWORD_ENV]: 'from-env' };
    expect(readLaunch(env).password).toBe('from-file');
    expect(readLaunch({ [BOT_SPEC_ENV]: JSON.stringify(spec), [BOT_PASSWORD_ENV]: 'from-env' }).password).toBe('from-env');
  });

  it('says which setting is wrong: a missing or empty password file, no password at all, a bad spec', () => {
    const base = { [BOT_SPEC_ENV]: JSON.stringify(spec) };
    expect(() => readLaunch({ ...base, [BOT_PASSWORD_FILE_ENV]: join(dir, 'absent') })).toThrow(/cannot be read: ENOENT/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(() => readLaunch({ ...base, [BOT_PASSWORD_FILE_ENV]: empty })).toThrow(/is empty/);
    expect(() => readLaunch(base)).toThrow(SpecError);
    expect(() => readLaunch({ [BOT_SPEC_ENV]: JSON.stringify({ ...spec, bot_id: 'Bad/Id' }), [BOT_PASSWORD_ENV]: 'x' })).toThrow(/not a bot id/);
    expect(() => readLaunch({ [BOT_SPEC_ENV]: '{', [BOT_PASSWORD_ENV]: 'x' })).toThrow(/not JSON/);
  });

  it('reads on_restart: a spec from before it existed resumes, flatten is taken, anything else is refused by name', () => {
    const env = (s: object) => ({ [BOT_SPEC_ENV]: JSON.stringify(s), [BOT_PASSWORD_ENV]: 'x' });
    expect(readLaunch(env(spec)).spec.on_restart).toBe('resume');
    expect(readLaunch(env({ ...spec, on_restart: 'flatten' })).spec.on_restart).toBe('flatten');
    expect(() => readLaunch(env({ ...spec, on_restart: 'close' }))).toThrow(/on_restart: Invalid option/);
  });
});
