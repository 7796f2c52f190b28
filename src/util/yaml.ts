/** Reading the YAML files of configs/ (tasks, profiles, benchmark and training configs). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError, errorMessage } from './errors.js';
import { validateConfig, type ConfigKind } from './config-schema.js';

/**
 * Read a YAML file into a plain object, or raise a one-line InputError naming the file. With a
 * `kind`, the file is also checked against configs/schema/<kind>.schema.json.
 */
export function readYamlFile(file: string, kind?: ConfigKind): Record<string, unknown> {
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
  if (kind !== undefined) validateConfig(kind, file, value);
  return value as Record<string, unknown>;
}
