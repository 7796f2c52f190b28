/**
 * Validation of configuration files against the JSON Schemas published in configs/schema/ (which
 * editors also use to complete and check the YAML: yaml-language-server `# yaml-language-server:
 * $schema=…` or a schema association). One failure is one line: the file, the key, the problem.
 *
 * The validator is ajv (JSON Schema 2020-12, strict mode), a maintained implementation of the
 * whole standard, so a schema cannot promise more than is checked and an unknown keyword in a
 * schema is an error when it is compiled. This module only turns ajv's first error into the
 * one-line message ("training.epochs: expected a positive integer, got 0").
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { InputError } from './errors.js';
import { CONFIG_DIR } from './paths.js';

export type ConfigKind = 'benchmark' | 'train' | 'task' | 'planning-profile' | 'training-profile';
export const CONFIG_KINDS: readonly ConfigKind[] = ['benchmark', 'train', 'task', 'planning-profile', 'training-profile'];

export const SCHEMA_DIR = path.join(CONFIG_DIR, 'schema');

export function schemaFile(kind: ConfigKind): string {
  return path.join(SCHEMA_DIR, `${kind}.schema.json`);
}

/** The keywords of the published schemas that the messages below read (ajv checks them all). */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

// verbose: errors carry the failing value and its schema, which the messages quote
const ajv = new Ajv2020({ strict: true, allErrors: false, verbose: true });
// editor annotations of yaml-language-server / VS Code, not validation keywords
ajv.addKeyword('markdownDescription');

const compiled = new Map<ConfigKind, ValidateFunction>();

/** The compiled validator of `kind`; throws when the published schema is not valid strict JSON Schema. */
export function schemaValidator(kind: ConfigKind): ValidateFunction {
  let validate = compiled.get(kind);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile(kind), 'utf8')) as object);
    compiled.set(kind, validate);
  }
  return validate;
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
function expected(s: Schema): string {
  if (s.const !== undefined) return show(s.const);
  if (s.enum !== undefined) return `one of ${s.enum.map((v) => String(v)).join(', ')}`;
  if (s.anyOf !== undefined) return s.anyOf.map((b) => expected(b)).join(' or ');
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
  const article = (t: string) => (t === 'integer' ? 'an integer' : t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : t === 'null' ? 'null' : `a ${t}`);
  return (types.map(article).join(' or ') || 'a value') + (bounds.length > 0 ? ` ${bounds.join(' and ')}` : '');
}

/** A JSON Pointer into `root` as the dotted key of the YAML ("learning_rates[1]", "labels.0"). */
function dottedKey(root: unknown, pointer: string): string {
  let key = '';
  let at: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    key = Array.isArray(at) ? `${key}[${seg}]` : key === '' ? seg : `${key}.${seg}`;
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[seg] : undefined;
  }
  return key;
}

/** The message of the error that decided `errors` (ajv lists an anyOf's branch errors before it). */
function describe(root: unknown, errors: readonly ErrorObject[]): string {
  const err = errors[errors.length - 1]!;
  const schema = (err.parentSchema ?? {}) as Schema;
  const key = dottedKey(root, err.instancePath);
  const where = key === '' ? '' : `${key}: `;
  const value: unknown = err.data;
  switch (err.keyword) {
    case 'anyOf': {
      // a branch of the right type explains best (e.g. a bound of a number)
      const typed = (schema.anyOf ?? []).findIndex((b) => b.type !== undefined && [b.type].flat().some((t) => typeMatches(value, t)));
      const prefix = `${err.schemaPath}/${typed}/`;
      const inBranch = errors.filter((e) => e.schemaPath.startsWith(prefix));
      if (typed >= 0 && inBranch.length > 0) return describe(root, inBranch);
      return `${where}expected ${expected(schema)}, got ${show(value)}`;
    }
    case 'required':
      return `${where}missing key '${(err.params as { missingProperty: string }).missingProperty}'`;
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      const valid = [...Object.keys(schema.properties ?? {}), ...Object.keys(schema.patternProperties ?? {}).map((re) => `keys matching ${re}`)];
      return `${key === '' ? extra : `${key}.${extra}`}: unknown key '${extra}' (valid: ${valid.join(', ')})`;
    }
    case 'minLength':
      return `${where}expected a non-empty string`;
    case 'minItems': {
      const n = (err.params as { limit: number }).limit;
      return `${where}expected at least ${n} item${n === 1 ? '' : 's'}, got ${(value as unknown[]).length}`;
    }
    case 'maxItems': {
      const n = (err.params as { limit: number }).limit;
      return `${where}expected at most ${n} item${n === 1 ? '' : 's'}, got ${(value as unknown[]).length}`;
    }
    case 'uniqueItems': {
      const { i } = err.params as { i: number; j: number };
      return `${where}lists ${show((value as unknown[])[i])} twice`;
    }
    case 'type': case 'const': case 'enum': case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `${where}expected ${expected(schema)}, got ${show(value)}`;
    default:
      return `${where}${err.message ?? err.keyword}`;
  }
}

/** The first problem of `value` against the schema of `kind`, as "key: problem", or undefined when it conforms. */
export function firstProblem(kind: ConfigKind, value: unknown): string | undefined {
  const validate = schemaValidator(kind);
  if (validate(value)) return undefined;
  return describe(value, validate.errors ?? []);
}

/** Throw a one-line InputError naming `file` and the key when `value` does not conform to the schema of `kind`. */
export function validateConfig(kind: ConfigKind, file: string, value: unknown): void {
  const problem = firstProblem(kind, value);
  if (problem !== undefined) throw new InputError(file, problem);
}
