import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidTimezone } from '@rhythm/jobs';
import { authConfig } from './auth-config';
import { awsConfig } from './aws-config';
import { mesosConfig } from './mesos-config';
import type { LogLevel, RhythmConfig } from './rhythm-config';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** A JSON object whose keys were lower-cased, as the original Rhythm matched config keys. */
type FileSection = Readonly<Record<string, unknown>>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Builds the configuration from the original Rhythm JSON config file (`--config FILE` or
 * RHYTHM_CONFIG; keys case-insensitive) and RHYTHM_* environment variables, which win over the file.
 * Every problem is collected so that one start-up reports all of them.
 */
export function loadConfig(env: Env, argv: readonly string[], version: string): RhythmConfig {
  const problems: string[] = [];
  const file = readConfigFile(configPath(env, argv), problems);
  const api = section(file, 'api');
  const storageFile = section(file, 'storage');
  const logging = section(file, 'logging');

  const addr = env.RHYTHM_ADDR ?? stringAt(api, 'addr', problems, 'api.addr') ?? 'localhost:8000';
  const { host, port } = parseAddr(addr, problems);

  const auth = authConfig(env, section(api, 'auth'), problems);
  const authCacheTtl =
    env.RHYTHM_AUTH_CACHE_TTL_MS ??
    numberAt(section(api, 'auth'), 'cachettl', problems, 'api.auth.cachettl');
  const authCacheTtlMs = authCacheTtl === undefined ? 30_000 : Number(authCacheTtl);
  if (!Number.isInteger(authCacheTtlMs) || authCacheTtlMs < 0) {
    problems.push(
      `RHYTHM_AUTH_CACHE_TTL_MS '${authCacheTtl}' must be a whole number of milliseconds`,
    );
  }
  const metricsToken =
    env.RHYTHM_METRICS_TOKEN ?? stringAt(api, 'metricstoken', problems, 'api.metricstoken') ?? '';

  const level = (env.RHYTHM_LOG_LEVEL ??
    stringAt(logging, 'level', problems, 'logging.level') ??
    'info') as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    problems.push(`logging level '${level}' must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const bodyLimit = env.RHYTHM_BODY_LIMIT ?? numberAt(api, 'bodylimit', problems, 'api.bodylimit');
  const bodyLimitBytes = bodyLimit === undefined ? DEFAULT_BODY_LIMIT : Number(bodyLimit);
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1024) {
    problems.push(
      `RHYTHM_BODY_LIMIT '${bodyLimit}' must be an integer number of bytes, at least 1024`,
    );
  }

  const certFile =
    env.RHYTHM_TLS_CERT_FILE ?? stringAt(api, 'certfile', problems, 'api.certfile') ?? '';
  const keyFile =
    env.RHYTHM_TLS_KEY_FILE ?? stringAt(api, 'keyfile', problems, 'api.keyfile') ?? '';
  if ((certFile === '') !== (keyFile === '')) {
    problems.push(
      'TLS needs both a certificate file and a key file (api.certfile and api.keyfile)',
    );
  }

  const storage = storageOptions(env, storageFile, problems);
  const scheduler = section(file, 'scheduler');
  const timezone =
    env.RHYTHM_TIMEZONE ?? stringAt(scheduler, 'timezone', problems, 'scheduler.timezone') ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    problems.push(`time zone '${timezone}' is not a known IANA zone name`);
  }
  const integer = (
    name: string,
    value: string | undefined,
    fallback: number,
    min: number,
  ): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      problems.push(`${name} '${value}' must be an integer of at least ${min}`);
    }
    return parsed;
  };
  const scheduling = {
    timezone,
    pollIntervalMs: integer(
      'RHYTHM_SCHEDULER_POLL_MS',
      env.RHYTHM_SCHEDULER_POLL_MS ??
        numberAt(scheduler, 'pollinterval', problems, 'scheduler.pollinterval'),
      500,
      10,
    ),
    reconcileIntervalMs: integer(
      'RHYTHM_RECONCILE_INTERVAL_MS',
      env.RHYTHM_RECONCILE_INTERVAL_MS ??
        numberAt(scheduler, 'reconcileinterval', problems, 'scheduler.reconcileinterval'),
      30_000,
      100,
    ),
    leaderTtlMs: integer(
      'RHYTHM_LEADER_TTL_MS',
      env.RHYTHM_LEADER_TTL_MS ?? numberAt(scheduler, 'leaderttl', problems, 'scheduler.leaderttl'),
      3000,
      500,
    ),
    historyMaxAgeMs: integer(
      'RHYTHM_TASK_TTL_MS',
      env.RHYTHM_TASK_TTL_MS ?? numberAt(storageFile, 'taskttl', problems, 'storage.taskttl'),
      7 * 24 * 3600 * 1000,
      60_000,
    ),
    historyMaxPerJob: integer(
      'RHYTHM_TASKS_PER_JOB',
      env.RHYTHM_TASKS_PER_JOB ??
        numberAt(storageFile, 'tasksperjob', problems, 'storage.tasksperjob'),
      1000,
      1,
    ),
  };
  const logDir =
    env.RHYTHM_LOG_DIR ??
    stringAt(
      section(section(file, 'runners'), 'local'),
      'logdir',
      problems,
      'runners.local.logdir',
    ) ??
    join(storage.kind === 'embedded' ? storage.dataDir : './data', 'logs');
  const secrets = secretsOptions(env, section(file, 'secrets'), problems);
  const mesos = mesosConfig(env, section(file, 'mesos'), problems);
  const aws = awsConfig(env, section(file, 'aws'), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    version,
    api: { host, port, certFile, keyFile, bodyLimitBytes, auth, authCacheTtlMs, metricsToken },
    storage,
    scheduling,
    runners: { logDir },
    secrets,
    mesos,
    aws,
    logging: { level },
  };
}

function storageOptions(env: Env, file: FileSection, problems: string[]): RhythmConfig['storage'] {
  const backend =
    env.RHYTHM_STORAGE ?? stringAt(file, 'backend', problems, 'storage.backend') ?? 'embedded';
  const redis = section(file, 'redis');
  const embedded = section(file, 'embedded');
  switch (backend) {
    case 'redis':
      return {
        kind: 'redis',
        url:
          env.RHYTHM_REDIS_URL ??
          stringAt(redis, 'url', problems, 'storage.redis.url') ??
          'redis://127.0.0.1:6379',
        keyPrefix:
          env.RHYTHM_REDIS_PREFIX ??
          stringAt(redis, 'prefix', problems, 'storage.redis.prefix') ??
          'rhythm:',
      };
    case 'embedded':
      return {
        kind: 'embedded',
        dataDir:
          env.RHYTHM_DATA_DIR ??
          stringAt(embedded, 'dir', problems, 'storage.embedded.dir') ??
          './data',
      };
    default:
      problems.push(`storage backend '${backend}' must be 'embedded' or 'redis'`);
      return { kind: 'embedded', dataDir: './data' };
  }
}

type SecretsConfig = NonNullable<RhythmConfig['secrets']>;

/**
 * The `secrets` section. RHYTHM_* variables win over the file, and Vault's own VAULT_ADDR and
 * VAULT_TOKEN fill in what neither sets. The original's `none` backend handed jobs the secret's
 * path as its value; it now means `environment`, which reads real values or fails the run.
 */
function secretsOptions(env: Env, file: FileSection, problems: string[]): SecretsConfig {
  const backend =
    env.RHYTHM_SECRETS_BACKEND ??
    stringAt(file, 'backend', problems, 'secrets.backend') ??
    'environment';
  switch (backend) {
    case 'none':
    case 'environment': {
      // An empty string in the file counts as unset, as the original's defaults were empty strings.
      const dir =
        env.RHYTHM_SECRETS_DIR ?? (stringAt(file, 'dir', problems, 'secrets.dir') || undefined);
      return dir ? { backend: 'environment', dir } : { backend: 'environment' };
    }
    case 'vault':
      return vaultOptions(env, section(file, 'vault'), problems);
    default:
      problems.push(`secrets backend '${backend}' must be 'environment' or 'vault'`);
      return { backend: 'environment' };
  }
}

function vaultOptions(env: Env, vault: FileSection, problems: string[]): SecretsConfig {
  const text = (key: string) => stringAt(vault, key, problems, `secrets.vault.${key}`) || undefined;
  const number = (key: string) => numberAt(vault, key, problems, `secrets.vault.${key}`);
  const addr = env.RHYTHM_VAULT_ADDR ?? text('addr') ?? env.VAULT_ADDR ?? '';
  const token = env.RHYTHM_VAULT_TOKEN ?? text('token') ?? env.VAULT_TOKEN ?? '';
  const root = env.RHYTHM_VAULT_ROOT ?? text('root') ?? 'secret/rhythm/';
  const caFile = env.RHYTHM_VAULT_CACERT ?? text('cacert');
  const kv = env.RHYTHM_VAULT_KV_VERSION ?? number('kvversion');
  const timeout = env.RHYTHM_VAULT_TIMEOUT_MS ?? number('timeout');

  const protocol = URL.canParse(addr) ? new URL(addr).protocol : '';
  if (addr === '') {
    problems.push(
      'secrets.vault.addr (RHYTHM_VAULT_ADDR or VAULT_ADDR) is required for the vault backend',
    );
  } else if (protocol !== 'http:' && protocol !== 'https:') {
    problems.push(`Vault address '${addr}' must be an http:// or https:// URL`);
  } else if (caFile !== undefined && protocol !== 'https:') {
    problems.push('secrets.vault.cacert (RHYTHM_VAULT_CACERT) needs an https:// Vault address');
  }
  // Only whether it is set: the token itself never goes into a message.
  if (token === '') {
    problems.push(
      'secrets.vault.token (RHYTHM_VAULT_TOKEN or VAULT_TOKEN) is required for the vault backend',
    );
  }
  const segments = root.replace(/^\/+|\/+$/g, '').split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    problems.push(`Vault root '${root}' must be a path like secret/rhythm/`);
  }
  const kvVersion = kv === undefined ? 1 : Number(kv);
  if (kvVersion !== 1 && kvVersion !== 2) {
    problems.push(`RHYTHM_VAULT_KV_VERSION '${kv}' must be 1 or 2`);
  }
  // 0 was the original's default and meant no timeout; a read is now always bounded.
  const timeoutMs = timeout === undefined || Number(timeout) === 0 ? 5000 : Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    problems.push(`RHYTHM_VAULT_TIMEOUT_MS '${timeout}' must be a whole number of milliseconds`);
  }
  return {
    backend: 'vault',
    addr,
    token,
    root,
    kvVersion: kvVersion === 2 ? 2 : 1,
    timeoutMs,
    ...(caFile ? { caFile } : {}),
  };
}

function configPath(env: Env, argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config' || arg === '-config') return argv[i + 1];
    if (arg.startsWith('--config=') || arg.startsWith('-config=')) {
      return arg.slice(arg.indexOf('=') + 1);
    }
  }
  return env.RHYTHM_CONFIG;
}

function readConfigFile(path: string | undefined, problems: string[]): FileSection {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`cannot read config file ${path}: ${(error as Error).message}`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('the top level must be a JSON object');
    return lowerCaseKeys(parsed);
  } catch (error) {
    problems.push(`config file ${path} is not valid: ${(error as Error).message}`);
    return {};
  }
}

/** Sections whose keys are names (users, groups, projects, labels): they keep their case. */
const DATA_SECTIONS: ReadonlySet<string> = new Set(['useracl', 'groupacl', 'labels', 'tags']);

function lowerCaseKeys(value: Record<string, unknown>): FileSection {
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const folded = key.toLowerCase();
      const keep = DATA_SECTIONS.has(folded);
      return [folded, isObject(inner) && !keep ? lowerCaseKeys(inner) : inner];
    }),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function section(parent: FileSection, key: string): FileSection {
  const value = parent[key];
  return isObject(value) ? value : {};
}

/**
 * A scalar setting of the file, or undefined when absent; a value of the wrong type is reported.
 * Numbers come back as text, like the environment variables they stand in for.
 */
function valueAt(
  type: 'string' | 'number',
  parent: FileSection,
  key: string,
  problems: string[],
  path: string,
): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (type === 'string' && typeof value === 'string') return value;
  if (type === 'number' && typeof value === 'number') return String(value);
  problems.push(`${path} must be a ${type}`);
  return undefined;
}

const stringAt = valueAt.bind(null, 'string');
const numberAt = valueAt.bind(null, 'number');

function parseAddr(addr: string, problems: string[]): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(addr);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    problems.push(`listen address '${addr}' must be host:port (for example localhost:8000)`);
    return { host: 'localhost', port: 8000 };
  }
  const host = match[1].replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port };
}
