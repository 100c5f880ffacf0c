import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from '../zod.js';
import { PolicyFileSchema, type PolicyFileData } from './schema.js';

/** A policies file as loaded: its groups, hierarchy and compiled policies, named by a hash of its text. */
export interface PolicySet extends Omit<PolicyFileData, 'version'> {
  /** The text's version, not the format's (always 1). First 12 hex characters of the SHA-256 of the file's text; recorded with decisions to tell which rules applied. */
  readonly version: string;
  readonly source: string;
  /** The text it was parsed from, so a version can be stored and diffed (four-eyes on policy changes). */
  readonly text: string;
}

/** The first problem in a policies file, located so an editor can jump to it. */
export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${source}:${line}:${column}: ${path ? `${path}: ` : ''}${detail}`);
    this.name = 'PolicyError';
  }
}

type Path = readonly PropertyKey[];

/** `policies[1].levels[0].rule`, as people write it. */
function formatPath(path: Path): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    if (!/^[A-Za-z_][\w-]*$/.test(name)) return `${out}[${JSON.stringify(name)}]`;
    return out ? `${out}.${name}` : name;
  }, '');
}

interface Located {
  offset: number;
  path: Path;
  detail: string;
}

/** Where in the document an issue is: the node at its path, or the nearest ancestor present. */
function locate(doc: Document, issue: z.core.$ZodIssue): Located {
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]);
    const map = doc.getIn(issue.path, true);
    const pair = isMap(map) ? map.items.find((item) => isScalar(item.key) && String(item.key.value) === key) : undefined;
    const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
    return { offset: keyNode?.range?.[0] ?? 0, path: [...issue.path, key], detail: 'unknown key' };
  }
  const detail = issue.message.replace(/^Invalid input: /, '');
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(issue.path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (!range) continue;
    const missing = depth < issue.path.length && issue.code === 'invalid_type';
    return { offset: range[0], path: issue.path, detail: missing ? 'required' : detail };
  }
  return { offset: 0, path: issue.path, detail };
}

/**
 * The problem to report: the earliest in the file, preferring shape problems (wrong type, unknown key) to the
 * checks that run after them, whose complaint may only be a consequence (a misspelt `approvers` is also a level
 * without approvers).
 */
function firstProblem(doc: Document, issues: readonly z.core.$ZodIssue[]): Located | undefined {
  const located = issues.map((issue) => ({ ...locate(doc, issue), custom: issue.code === 'custom' }));
  located.sort((a, b) => Number(a.custom) - Number(b.custom) || a.offset - b.offset);
  return located[0];
}

const versionOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);

/**
 * Parses and validates a policies file. Throws a PolicyError naming `source`, the line and column and the path of
 * the first problem (the earliest in the file), so a bad edit is rejected with a message that points at it.
 */
export function parsePolicies(text: string, source = 'policies.yaml'): PolicySet {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const fail = (offset: number, path: Path, detail: string): PolicyError => {
    const { line, col } = lineCounter.linePos(offset);
    return new PolicyError(source, line, col, formatPath(path), detail);
  };
  const syntax = doc.errors[0];
  if (syntax) throw fail(syntax.pos[0], [], syntax.message);
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // The yaml library refuses to expand an alias bomb (a resource-exhaustion attack) here, not while parsing.
    throw fail(0, [], (err as Error).message);
  }
  const result = PolicyFileSchema.safeParse(data);
  if (!result.success) {
    const first = firstProblem(doc, result.error.issues) ?? { offset: 0, path: [], detail: result.error.message };
    throw fail(first.offset, first.path, first.detail);
  }
  return { ...result.data, version: versionOf(text), source, text };
}

export type ReloadResult = { ok: true; version: string } | { ok: false; error: string };

/** The file on disk: loaded once at start (a bad file stops the start), reloaded when its content changes. */
export class PolicyFile {
  #current: PolicySet | null = null;
  /** Version of the text last read, good or bad (null when unreadable), so each change is reported once. */
  #seen: string | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(readonly path: string) {}

  /** Reads and parses the file; throws PolicyError (or the read error) and keeps the current set if it fails. */
  load(): PolicySet {
    this.#seen = null;
    const text = readFileSync(this.path, 'utf8');
    this.#seen = versionOf(text);
    this.#current = parsePolicies(text, this.path);
    return this.#current;
  }

  /** Like load, but a bad file is reported instead of thrown, and the last good set stays in force. */
  reload(): ReloadResult {
    try {
      return { ok: true, version: this.load().version };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  current(): PolicySet {
    if (!this.#current) throw new Error(`${this.path} has not been loaded`);
    return this.#current;
  }

  /**
   * Polls the file every `interval` ms and reloads when its content differs from what was last read. Polling
   * rather than fs.watch, because editors that save by rename and ConfigMaps that swap a symlink escape inotify
   * watches on the old inode; comparing content rather than fs.watchFile's stats, because watchFile compares
   * with its own first stat and so misses an edit made before that, and a touch should not reload.
   */
  watch(onReload: (result: ReloadResult) => void, { interval = 2000 }: { interval?: number } = {}): void {
    this.close();
    this.#timer = setInterval(() => {
      if (this.#read() !== this.#seen) onReload(this.reload());
    }, interval);
    // Watching the file is no reason to keep the process alive.
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #read(): string | null {
    try {
      return versionOf(readFileSync(this.path, 'utf8'));
    } catch {
      return null;
    }
  }
}
