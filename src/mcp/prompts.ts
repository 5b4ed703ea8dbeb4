import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PromptArgument {
  name: string;
  description: string;
  required: boolean;
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
 * (`arguments:` then `  - name: x`, `    description: ...`, `    required: true`).
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
    const field = /^\s+(description|required):\s*(.+)$/.exec(line);
    const top = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (item) {
      current = { name: unquote(item[1]!), description: '', required: false };
      args.push(current as PromptArgument);
    } else if (field && current) {
      if (field[1] === 'required') current.required = field[2]!.trim() === 'true';
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

/** Fills `{{name}}` placeholders; a missing optional argument leaves "(not given)". */
export function renderPrompt(p: PromptFile, args: Record<string, string | undefined>): string {
  return p.body.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, k: string) => args[k] ?? '(not given)');
}
