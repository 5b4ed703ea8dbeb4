import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorBody, type AppError } from '../core/errors.js';
import { mayNeedRedaction, redactForModel } from './redact-output.js';
import { cutNotice, cutToFit, type CutHelp, MAX_RESULT_CHARS, type ListCut } from './result-size.js';
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
  /** What the cut notice may point to for the rest. */
  help?: CutHelp;
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
  if (cuts.length) content.push({ type: 'text', text: cutNotice(cuts, limit, json.length + (fence?.length ?? 0) > limit, opts.help) });
  if (fence) content.push({ type: 'text', text: fence });
  return { content, structuredContent: value };
}

/** A second cut counts from what the first one left: the totals are the first one's. */
function mergeCuts(first: ListCut[], second: ListCut[]): ListCut[] {
  const byPath = new Map(first.map((c) => [c.path, c]));
  for (const c of second) byPath.set(c.path, { ...c, total: byPath.get(c.path)?.total ?? c.total });
  return [...byPath.values()];
}

/** The longest string an error body carries to a model. */
export const MAX_ERROR_STRING = 1_000;

/**
 * Errors stay small: a message can quote what the caller sent (a validation message lists unknown
 * keys, whatever their length), so each string is cut at MAX_ERROR_STRING characters, saying so.
 */
function boundStrings<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.length <= MAX_ERROR_STRING ? v : `${v.slice(0, MAX_ERROR_STRING)}… [${v.length - MAX_ERROR_STRING} more characters not shown]`;
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
  };
  return walk(value) as T;
}

/**
 * Domain failures are tool results the model can read and act on, never JSON-RPC errors. The JSON
 * body is REST's, redacted, with external text fenced and every string bounded; errors are never cut.
 */
export function toolError(err: AppError, requestId: string): CallToolResult {
  let body = errorBody(err, requestId);
  if (mayNeedRedaction(JSON.stringify(body))) body = redactForModel(body, 'error');
  // Bounded after redaction, so that a cut can never leave part of a secret unmasked.
  body = boundStrings(body);
  let json = JSON.stringify(body);
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
