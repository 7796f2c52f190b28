/** Reading the YAML files of configs/ (tasks, profiles, benchmark and training configs). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError, errorMessage } from './errors.js';
import { warn } from './log.js';
import { validateConfig, type ConfigKind } from './config-schema.js';

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The YAML keys of a settings file in the one dialect of segloss's config files, snake_case (the
 * names of MONAI and nnU-Net where they exist). camelCase and kebab-case keys of earlier versions
 * are renamed with a one-line deprecation warning each; a key given in two spellings is an error.
 */
export function snakeCaseKeys(file: string, yaml: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(yaml)) {
    const key = camelToSnake(rawKey).replace(/-/g, '_');
    if (key !== rawKey) {
      if (Object.prototype.hasOwnProperty.call(yaml, key)) throw new InputError(file, `${rawKey} and ${key} are the same setting; give only ${key}`);
      warn(`${file}: setting ${rawKey} is deprecated; use ${key}`);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Read a YAML file into a plain object, or raise a one-line InputError naming the file. With
 * `snakeCase`, top-level keys of earlier dialects are renamed first (snakeCaseKeys: one deprecation
 * warning each). With a `kind`, the file is then checked against configs/schema/<kind>.schema.json.
 */
export function readYamlFile(file: string, kind?: ConfigKind, options: { snakeCase?: boolean } = {}): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read: ${errorMessage(err)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new InputError(file, `invalid YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  if (value === null || value === undefined) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError(file, 'expected a mapping of settings at the top level');
  const settings = options.snakeCase === true ? snakeCaseKeys(file, value as Record<string, unknown>) : (value as Record<string, unknown>);
  if (kind !== undefined) validateConfig(kind, file, settings);
  return settings;
}
