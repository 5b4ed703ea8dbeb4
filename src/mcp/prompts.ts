import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PromptArgument {
  name: string;
  description: string;
  required: boolean;
  /** The only values allowed, when the argument is a choice (`choices: 1h, 24h, 7d`). */
  choices?: string[];
  /** A regular expression the whole value must match (`pattern: ^[A-Z0-9]{1,20}$`). */
  pattern?: string;
}

export interface PromptFile {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  body: string;
}

export const PROMPTS_DIR = fileURLToPath(new URL('../../prompts', import.meta.url));

/**
 * Reads `prompts/*.md`. `server-instructions.md` is the server's instructions; every other file is a
 * prompt whose front matter gives name, title, description and arguments
 * (`arguments:` then `  - name: x`, `    description: ...`, `    required: true`, and optionally
 * `    choices: a, b, c` or `    pattern: ^regex$`, which getPrompt enforces).
 */
export function loadPrompts(dir = PROMPTS_DIR): { instructions: string; prompts: PromptFile[] } {
  let instructions = '';
  const prompts: PromptFile[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    const { meta, args, body } = parseFrontMatter(text);
    if (file === 'server-instructions.md') {
      instructions = body.trim();
      continue;
    }
    // A broken pattern stops the start here, not the first caller of the prompt.
    for (const a of args) if (a.pattern) new RegExp(a.pattern, 'u');
    prompts.push({
      name: meta.name ?? file.replace(/\.md$/, ''),
      title: meta.title ?? meta.name ?? file,
      description: meta.description ?? '',
      arguments: args,
      body: body.trim(),
    });
  }
  return { instructions, prompts };
}

function parseFrontMatter(text: string): { meta: Record<string, string>; args: PromptArgument[]; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  if (!m) return { meta: {}, args: [], body: text };
  const meta: Record<string, string> = {};
  const args: PromptArgument[] = [];
  let current: Partial<PromptArgument> | undefined;
  for (const line of m[1]!.split('\n')) {
    const item = /^\s*-\s*name:\s*(.+)$/.exec(line);
    const field = /^\s+(description|required|choices|pattern):\s*(.+)$/.exec(line);
    const top = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (item) {
      current = { name: unquote(item[1]!), description: '', required: false };
      args.push(current as PromptArgument);
    } else if (field && current) {
      if (field[1] === 'required') current.required = field[2]!.trim() === 'true';
      else if (field[1] === 'choices') current.choices = unquote(field[2]!).split(',').map((c) => c.trim()).filter(Boolean);
      else if (field[1] === 'pattern') current.pattern = unquote(field[2]!);
      else current.description = unquote(field[2]!);
    } else if (top) {
      current = undefined;
      if (top[2]) meta[top[1]!] = unquote(top[2]);
    }
  }
  return { meta, args, body: m[2]! };
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** The longest value any prompt argument takes: they are names, pairs and amounts, not prose. */
const MAX_ARGUMENT_CHARS = 200;
const PLAIN_TEXT = /^[^\u0000-\u001F\u007F\p{Cs}]*$/u;

/**
 * What is wrong with a prompt's arguments, one line per problem (empty when they are fine): unknown
 * names, missing required ones, values that are not text, too long, hold control characters, or are
 * not one of the declared choices or do not match the declared pattern.
 */
export function promptArgumentProblems(p: PromptFile, args: unknown): string[] {
  if (args === undefined) args = {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return ['arguments: must be an object of strings'];
  const given = args as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of Object.keys(given)) {
    if (!p.arguments.some((a) => a.name === name)) problems.push(`${name.slice(0, 64)}: not an argument of ${p.name} (it takes ${p.arguments.map((a) => a.name).join(', ') || 'none'})`);
  }
  for (const a of p.arguments) {
    const v = given[a.name];
    if (v === undefined || v === '') {
      if (a.required) problems.push(`${a.name}: required`);
      continue;
    }
    if (typeof v !== 'string') problems.push(`${a.name}: must be a string`);
    else if (v.length > MAX_ARGUMENT_CHARS) problems.push(`${a.name}: at most ${MAX_ARGUMENT_CHARS} characters`);
    else if (!PLAIN_TEXT.test(v)) problems.push(`${a.name}: must not contain control characters or unpaired surrogates`);
    else if (a.choices && !a.choices.includes(v)) problems.push(`${a.name}: must be one of ${a.choices.join(', ')}`);
    else if (a.pattern && !new RegExp(a.pattern, 'u').test(v)) problems.push(`${a.name}: does not have the expected form (${a.description})`);
  }
  return problems;
}

/** Fills `{{name}}` placeholders; a missing optional argument leaves "(not given)". */
export function renderPrompt(p: PromptFile, args: Record<string, string | undefined>): string {
  return p.body.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, k: string) => args[k] ?? '(not given)');
}
