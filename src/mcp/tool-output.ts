import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorBody, type AppError } from '../core/command/index.js';
import { mayNeedRedaction, redactForModel } from './redact-output.js';
import { cutNotice, cutToFit, MAX_RESULT_CHARS, type ListCut } from './result-size.js';
import { fenceUntrusted, mayHoldUntrusted, referencedTexts, renderUntrusted, type UntrustedText } from './untrusted.js';

/**
 * What a tool call sends back to the model. Every result and error passes three steps, each skipped
 * after a cheap test on the JSON text when it has nothing to do (a large result usually has not):
 * redaction (redact-output.ts), cutting to size (result-size.ts, success results only) and fencing of
 * external text (untrusted.ts).
 *
 * Content blocks, in order: the JSON (for a success, exactly structuredContent, for clients that
 * read only text), then the cut notice if any, then the fenced external texts if any. The notice and
 * the quotes are blocks of their own because the output schemas allow no extra fields in the JSON.
 */

export interface ResultOptions {
  /** Limit on the characters a success result sends to the model; MAX_RESULT_CHARS by default. */
  maxChars?: number;
}

/** Characters kept free for the cut notice (a line per cut list plus the advice). */
const NOTICE_ROOM = 1_000;

export function toolResult(output: Record<string, unknown>, opts: ResultOptions = {}): CallToolResult {
  const limit = opts.maxChars ?? MAX_RESULT_CHARS;
  let value = output;
  let json = JSON.stringify(value);
  if (mayNeedRedaction(json)) {
    value = redactForModel(value, 'result');
    json = JSON.stringify(value);
  }
  let cuts: ListCut[] = [];
  // First cut while external texts are still inline, so their size counts where their items are.
  if (json.length > limit) ({ value, json, cuts } = cutToFit(value, limit - NOTICE_ROOM, json));
  let texts: UntrustedText[] = [];
  if (mayHoldUntrusted(json)) {
    ({ value, texts } = fenceUntrusted(value));
    json = JSON.stringify(value);
  }
  let fence = renderUntrusted(texts);
  if (json.length + (fence?.length ?? 0) + (cuts.length ? NOTICE_ROOM : 0) > limit) {
    // Fencing added tags and placeholders: cut again, leaving room for the quotes still referenced.
    const again = cutToFit(value, limit - NOTICE_ROOM - (fence?.length ?? 0), json);
    ({ value, json } = again);
    cuts = mergeCuts(cuts, again.cuts);
    fence = renderUntrusted(referencedTexts(texts, json));
  }
  const content: CallToolResult['content'] = [{ type: 'text', text: json }];
  if (cuts.length) content.push({ type: 'text', text: cutNotice(cuts, limit, json.length + (fence?.length ?? 0) > limit) });
  if (fence) content.push({ type: 'text', text: fence });
  return { content, structuredContent: value };
}

/** A second cut counts from what the first one left: the totals are the first one's. */
function mergeCuts(first: ListCut[], second: ListCut[]): ListCut[] {
  const byPath = new Map(first.map((c) => [c.path, c]));
  for (const c of second) byPath.set(c.path, { ...c, total: byPath.get(c.path)?.total ?? c.total });
  return [...byPath.values()];
}

/**
 * Domain failures are tool results the model can read and act on, never JSON-RPC errors. The JSON
 * body is REST's, redacted, with external text fenced; errors are small and never cut.
 */
export function toolError(err: AppError, requestId: string): CallToolResult {
  let body = errorBody(err, requestId);
  let json = JSON.stringify(body);
  if (mayNeedRedaction(json)) {
    body = redactForModel(body, 'error');
    json = JSON.stringify(body);
  }
  let fence: string | undefined;
  if (mayHoldUntrusted(json)) {
    const fenced = fenceUntrusted(body);
    json = JSON.stringify(fenced.value);
    fence = renderUntrusted(fenced.texts);
  }
  const content: CallToolResult['content'] = [{ type: 'text', text: json }];
  if (fence) content.push({ type: 'text', text: fence });
  return { isError: true, content };
}
