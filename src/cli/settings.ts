/**
 * Settings precedence: built-in defaults < YAML config file < environment variables <
 * command-line flags. Each command declares its settings once in a table; `resolveSettings`
 * layers the four sources and validates YAML keys.
 */
import type { Command } from 'commander';
import { InputError, UsageError, errorMessage } from '../util/errors.js';
import { readYamlFile, snakeCaseKeys, snakeToCamel, camelToSnake } from '../util/yaml.js';
import type { ConfigKind } from '../util/config-schema.js';

// the YAML dialect's key names live in util (task YAMLs use them too); re-exported for the commands
export { camelToSnake, snakeToCamel, snakeCaseKeys };

export type SettingValue = string | number | boolean | string[] | number[] | Record<string, unknown>;

export interface SettingSpec {
  /** camelCase key as commander stores it; YAML takes its snake_case form (valBatches → val_batches). */
  key: string;
  /** Environment variable that sets it, if any. */
  env?: string;
  default?: SettingValue;
  parse?: (raw: string) => SettingValue;
}

export function kebabToCamel(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Resolve settings for a command. `cmd` is the commander command after parsing; its options must
 * be declared without commander defaults so that an explicit flag can be told from a default.
 * A YAML file is checked against the published schema of `kind` (configs/schema/) after its keys
 * are brought to snake_case.
 */
export function resolveSettings(
  cmd: Command,
  specs: readonly SettingSpec[],
  yamlFile?: string,
  kind?: ConfigKind,
): Record<string, SettingValue | undefined> {
  const result: Record<string, SettingValue | undefined> = {};
  for (const s of specs) result[s.key] = s.default;

  if (yamlFile !== undefined) {
    const yaml = readYamlFile(yamlFile, kind, { snakeCase: true });
    const known = new Map(specs.map((s) => [s.key, s]));
    for (const [rawKey, value] of Object.entries(yaml)) {
      const key = snakeToCamel(rawKey);
      const spec = known.get(key);
      if (spec === undefined) {
        throw new InputError(yamlFile, `unknown setting '${rawKey}' (valid: ${specs.map((s) => camelToSnake(s.key)).join(', ')})`);
      }
      result[key] = typeof value === 'string' && spec.parse ? spec.parse(value) : (value as SettingValue);
    }
  }
  for (const s of specs) {
    if (s.env === undefined) continue;
    const raw = process.env[s.env];
    if (raw === undefined || raw === '') continue;
    try {
      result[s.key] = s.parse ? s.parse(raw) : raw;
    } catch (err) {
      throw new UsageError(`environment variable ${s.env}: ${errorMessage(err)}`);
    }
  }
  const opts = cmd.opts<Record<string, unknown>>();
  for (const s of specs) {
    const source = cmd.getOptionValueSource(s.key);
    if (source === 'cli' || source === 'env') result[s.key] = opts[s.key] as SettingValue;
  }
  return result;
}

/** Parse helpers for option values; errors name the option. */
export function parseIntOption(name: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new UsageError(`${name}: expected an integer, got '${raw}'`);
    return n;
  };
}

export function parseNumberOption(name: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`${name}: expected a number, got '${raw}'`);
    return n;
  };
}

export function parseListOption(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
