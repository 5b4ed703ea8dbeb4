import { setMaxListeners } from 'node:events';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { fuzzCases, runFuzz, summaryLine } from '../helpers/fuzz.js';
import { mcpClient } from '../helpers/mcp-call.js';
import { ADMIN_AUTH, drivers, testServer, type TestServer } from '../helpers/test-env.js';

/**
 * A bounded, seeded fuzz over every registered command, on both faces (see test/helpers/fuzz.ts for
 * what it sends). FUZZ_SEED and FUZZ_RUNS change the seed and the number of inputs; a failure message
 * lists the inputs that broke a rule, and the same seed replays them. `npm run fuzz` runs more.
 */
// The MCP SDK's HTTP client adds an abort listener per request to one shared signal; thousands are expected here.
setMaxListeners(0);

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12000);
const UNTHROTTLED = { maxPerAddress: Number.MAX_SAFE_INTEGER, maxPerUser: Number.MAX_SAFE_INTEGER };

async function rows(s: TestServer, query: ReturnType<typeof sql>): Promise<Array<Record<string, unknown>>> {
  return ((await s.services.db.execute(query)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
}

describe.each(drivers())('fuzz on %s', (driver) => {
  let s: TestServer;
  let mcp: Client;

  beforeAll(async () => {
    // The fuzz sends hundreds of malformed Basic-auth headers from this one address; the login throttle
    // (tested in login-throttle*.test.ts) would rightly lock the address out and answer the rest 429.
    s = await testServer(driver, {}, { loginThrottle: UNTHROTTLED });
    mcp = await mcpClient(s.url, ADMIN_AUTH, 'fuzzer');
  });
  afterAll(async () => {
    await mcp?.close();
    await s?.stop();
  });

  it('no 5xx, no INTERNAL, every call one journal row, and the server still answers', async () => {
    const commands = s.registry.commands;
    const cases = fuzzCases(commands, SEED, RUNS);
    // Every command is reached on both faces, so a new command is fuzzed without editing this test.
    for (const c of commands) {
      expect(cases.some((x) => x.face === 'rest' && x.command === c.name), `${c.name} over REST`).toBe(true);
      expect(cases.some((x) => x.face === 'mcp' && x.command === c.name), `${c.name} over MCP`).toBe(true);
    }
    await s.services.audit.flush();
    const [before] = await rows(s, sql`select count(*)::int as n from audit_events where channel = 'mcp'`);

    const out = await runFuzz({ baseUrl: s.url, commands, authorization: ADMIN_AUTH, mcp }, cases, `fz${driver}`);
    console.log(summaryLine(driver, out));
    expect(out.failures, out.failures.slice(0, 20).join('\n')).toEqual([]);

    // The journal: one row per authenticated call, none for a call refused before it was a command call.
    await s.services.audit.flush();
    const journaled = await rows(s, sql`select request_id, count(*)::int as n from audit_events where request_id like ${`fz${driver}-%`} group by request_id`);
    const count = new Map(journaled.map((r) => [r.request_id as string, r.n as number]));
    const missing = out.journaledRestIds.filter((id) => count.get(id) !== 1);
    expect(missing.map((id) => `${id}: ${count.get(id) ?? 0} rows: ${out.restRequests.get(id)}`), 'REST calls without exactly one row').toEqual([]);
    expect(out.unjournaledRestIds.filter((id) => count.has(id)).map((id) => `${id}: ${out.restRequests.get(id)}`), 'calls refused before execute() that have a row').toEqual([]);
    const pending = await rows(s, sql`select request_id, command from audit_events where outcome = 'PENDING' and (request_id like ${`fz${driver}-%`} or channel = 'mcp')`);
    expect(pending, 'journal rows left PENDING after their call was answered').toEqual([]);
    const [after] = await rows(s, sql`select count(*)::int as n from audit_events where channel = 'mcp'`);
    expect((after!.n as number) - (before!.n as number), 'MCP calls vs MCP journal rows').toBe(out.mcpCalls);
    expect(out.mcpCalls + out.mcpTooLarge).toBe(out.sent.mcp);

    // Still alive, on both faces, for a normal caller.
    expect((await s.call('GET', '/health', undefined, null)).status).toBe(200);
    expect((await s.call('GET', '/connectors/sim')).status).toBe(200);
    expect((await mcp.listTools()).tools.length).toBeGreaterThan(0);
  }, 240_000);
});
