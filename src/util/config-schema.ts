/**
 * Validation of configuration files against the JSON Schemas published in configs/schema/ (which
 * editors also use to complete and check the YAML: yaml-language-server `# yaml-language-server:
 * $schema=…` or a schema association). One failure is one line: the file, the key, the problem.
 *
 * The checker implements the subset of JSON Schema 2020-12 those files use — type, enum, const,
 * properties, patternProperties, additionalProperties, required, items, minItems, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, minLength, anyOf, $ref to #/$defs — and rejects a
 * schema that uses any other keyword (test/util/config-schema.test.ts checks every published one),
 * so a schema cannot silently promise more than is checked.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { CONFIG_DIR } from './paths.js';

export type ConfigKind = 'benchmark' | 'train' | 'task' | 'planning-profile' | 'training-profile';
export const CONFIG_KINDS: readonly ConfigKind[] = ['benchmark', 'train', 'task', 'planning-profile', 'training-profile'];

export const SCHEMA_DIR = path.join(CONFIG_DIR, 'schema');

export function schemaFile(kind: ConfigKind): string {
  return path.join(SCHEMA_DIR, `${kind}.schema.json`);
}

export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  anyOf?: Schema[];
  $ref?: string;
  $defs?: Record<string, Schema>;
}

/** Keywords the checker implements, and annotations it may ignore. */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type', 'enum', 'const', 'properties', 'patternProperties', 'additionalProperties', 'required', 'items', 'minItems', 'minimum',
  'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'anyOf', '$ref', '$defs',
  '$schema', '$id', '$comment', 'title', 'description', 'default', 'deprecated', 'examples', 'markdownDescription',
]);

const loaded = new Map<ConfigKind, Schema>();

export function loadSchema(kind: ConfigKind): Schema {
  let schema = loaded.get(kind);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(schemaFile(kind), 'utf8')) as Schema;
    loaded.set(kind, schema);
  }
  return schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const t = typeOf(value);
  return t === type || (type === 'number' && t === 'integer');
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}

/** What a schema accepts, in words, for "expected …" messages. */
function expected(schema: Schema, root: Schema): string {
  const s = resolve(schema, root);
  if (s.const !== undefined) return show(s.const);
  if (s.enum !== undefined) return `one of ${s.enum.map((v) => String(v)).join(', ')}`;
  if (s.anyOf !== undefined) return s.anyOf.map((b) => expected(b, root)).join(' or ');
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  // the hand-written validators' phrases, so that both speak alike
  if (types.length === 1 && s.maximum === undefined && s.exclusiveMaximum === undefined) {
    if (types[0] === 'integer' && s.minimum === 1) return 'a positive integer';
    if (types[0] === 'integer' && s.minimum === 0) return 'an integer ≥ 0';
    if (types[0] === 'number' && s.exclusiveMinimum === 0 && s.minimum === undefined) return 'a positive number';
  }
  const bounds: string[] = [];
  if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) bounds.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
  const article = (t: string) => (t === 'integer' || t === 'array' || t === 'object' ? `an ${t === 'object' ? 'mapping' : t === 'array' ? 'list' : t}` : t === 'null' ? 'null' : `a ${t}`);
  return (types.map(article).join(' or ') || 'a value') + (bounds.length > 0 ? ` ${bounds.join(' and ')}` : '');
}

function resolve(schema: Schema, root: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const m = /^#\/\$defs\/(.+)$/.exec(schema.$ref);
  const target = m === null ? undefined : root.$defs?.[m[1]!];
  if (target === undefined) throw new Error(`schema: unresolvable $ref ${schema.$ref}`);
  return resolve(target, root);
}

/** The first problem of `value` against `schema`, as "key: problem", or undefined when it conforms. */
export function firstProblem(value: unknown, schema: Schema, root: Schema = schema, at = ''): string | undefined {
  const s = resolve(schema, root);
  const where = at === '' ? '' : `${at}: `;
  if (s.anyOf !== undefined) {
    const problems = s.anyOf.map((b) => firstProblem(value, b, root, at));
    if (problems.some((p) => p === undefined)) return undefined;
    // a branch of the right type explains best (e.g. a bound of a number)
    const typed = s.anyOf.findIndex((b) => { const r = resolve(b, root); return r.type !== undefined && [r.type].flat().some((t) => typeMatches(value, t)); });
    return typed >= 0 ? problems[typed] : `${where}expected ${expected(s, root)}, got ${show(value)}`;
  }
  if (s.type !== undefined && ![s.type].flat().some((t) => typeMatches(value, t))) return `${where}expected ${expected(s, root)}, got ${show(value)}`;
  if (s.const !== undefined && value !== s.const) return `${where}expected ${show(s.const)}, got ${show(value)}`;
  if (s.enum !== undefined && !s.enum.includes(value)) return `${where}expected one of ${s.enum.map((v) => String(v)).join(', ')}, got ${show(value)}`;
  if (typeof value === 'number') {
    const bad = (s.minimum !== undefined && value < s.minimum) || (s.maximum !== undefined && value > s.maximum) ||
      (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) || (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum);
    if (bad) return `${where}expected ${expected(s, root)}, got ${show(value)}`;
  }
  if (typeof value === 'string' && s.minLength !== undefined && value.length < s.minLength) return `${where}expected a non-empty string`;
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return `${where}expected at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}, got ${value.length}`;
    if (s.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const p = firstProblem(value[i], s.items, root, `${at}[${i}]`);
        if (p !== undefined) return p;
      }
    }
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in obj)) return `${where}missing key '${key}'`;
    const known = Object.keys(s.properties ?? {});
    for (const [key, v] of Object.entries(obj)) {
      const child = at === '' ? key : `${at}.${key}`;
      const prop = s.properties?.[key];
      const pattern = Object.entries(s.patternProperties ?? {}).find(([re]) => new RegExp(re, 'u').test(key))?.[1];
      const sub = prop ?? pattern ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub === undefined) {
        const valid = [...known, ...Object.keys(s.patternProperties ?? {}).map((re) => `keys matching ${re}`)];
        if (s.additionalProperties === false) return `${child}: unknown key '${key}' (valid: ${valid.join(', ')})`;
        continue;
      }
      const p = firstProblem(v, sub, root, child);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/** Throw a one-line InputError naming `file` and the key when `value` does not conform to the schema of `kind`. */
export function validateConfig(kind: ConfigKind, file: string, value: unknown): void {
  const problem = firstProblem(value, loadSchema(kind));
  if (problem !== undefined) throw new InputError(file, problem);
}

/** Keywords of `schema` (recursively) that the checker does not implement; [] for a usable schema. */
export function unsupportedKeywords(schema: unknown, at = '#'): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (!SUPPORTED_KEYWORDS.has(k)) out.push(`${at}/${k}`);
    if (k === 'properties' || k === 'patternProperties' || k === '$defs') {
      for (const [name, sub] of Object.entries(v as Record<string, unknown>)) out.push(...unsupportedKeywords(sub, `${at}/${k}/${name}`));
    } else if (k === 'items' || k === 'additionalProperties') out.push(...unsupportedKeywords(v, `${at}/${k}`));
    else if (k === 'anyOf') (v as unknown[]).forEach((sub, i) => out.push(...unsupportedKeywords(sub, `${at}/anyOf/${i}`)));
  }
  return out;
}
