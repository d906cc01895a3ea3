import { num, section, str, strings, type Env, type Section } from './config-section';

/** The Mesos cluster Rhythm runs command jobs on; null in the config when none is set. */
export interface MesosConfig {
  readonly masters: string[];
  readonly user: string;
  readonly roles: string[];
  readonly principal: string;
  /** HTTP Basic credentials (`auth.type: basic`); the principal is the username by default. */
  readonly basicAuth: { readonly username: string; readonly password: string } | null;
  readonly failoverTimeoutSeconds: number;
  readonly checkpoint: boolean;
  readonly webuiUrl: string;
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly caCertFile: string;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * The original config file's `mesos` section, with its keys (`addrs`, `user`, `roles`, `principal`,
 * `auth.type`/`auth.basic.username`/`password`, `failovertimeout` in ms, `checkpoint`, `webuiurl`,
 * `hostname`, `labels`, `cacert`), and RHYTHM_MESOS_* variables, which win. No master: null, and
 * command jobs run as local processes.
 */
export function mesosConfig(env: Env, mesos: Section, problems: string[]): MesosConfig | null {
  const masters = (env.RHYTHM_MESOS_MASTERS?.split(',') ?? strings(mesos.addrs))
    .map((master) => master.trim().replace(/\/+$/, ''))
    .filter((master) => master !== '');
  if (masters.length === 0) return null;
  for (const master of masters) {
    if (!/^https?:\/\/[^/]+$/.test(master)) {
      problems.push(`Mesos master '${master}' must be a URL like http://host:5050`);
    }
  }
  const auth = section(mesos.auth);
  const authType = env.RHYTHM_MESOS_AUTH ?? str(auth.type) ?? 'none';
  const basic = section(auth.basic);
  let basicAuth: MesosConfig['basicAuth'] = null;
  if (authType === 'basic') {
    basicAuth = {
      username: env.RHYTHM_MESOS_USERNAME ?? str(basic.username) ?? '',
      password: env.RHYTHM_MESOS_PASSWORD ?? str(basic.password) ?? '',
    };
    if (basicAuth.username === '') problems.push('mesos.auth.basic.username is required');
  } else if (authType !== 'none') {
    problems.push(`mesos.auth.type '${authType}' must be none or basic`);
  }
  const failoverMs = numberFrom(
    env.RHYTHM_MESOS_FAILOVER_TIMEOUT_MS,
    num(mesos.failovertimeout),
    WEEK_MS,
  );
  if (!Number.isFinite(failoverMs) || failoverMs < 0) {
    problems.push('mesos.failovertimeout must be a number of milliseconds, at least 0');
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(section(mesos.labels))) {
    if (typeof value === 'string') labels[key] = value;
    else problems.push(`mesos.labels.${key} must be a string`);
  }
  const roles =
    env.RHYTHM_MESOS_ROLES?.split(',').map((role) => role.trim()) ?? strings(mesos.roles);
  const checkpoint = env.RHYTHM_MESOS_CHECKPOINT ?? mesos.checkpoint;
  return {
    masters,
    user: env.RHYTHM_MESOS_USER ?? str(mesos.user) ?? '',
    roles: roles.length > 0 ? roles : ['*'],
    principal: env.RHYTHM_MESOS_PRINCIPAL ?? str(mesos.principal) ?? basicAuth?.username ?? '',
    basicAuth,
    failoverTimeoutSeconds: failoverMs / 1000,
    checkpoint: checkpoint === true || checkpoint === 'true',
    webuiUrl: env.RHYTHM_MESOS_WEBUI_URL ?? str(mesos.webuiurl) ?? '',
    hostname: env.RHYTHM_MESOS_HOSTNAME ?? str(mesos.hostname) ?? '',
    labels,
    caCertFile: env.RHYTHM_MESOS_CACERT ?? str(mesos.cacert) ?? '',
  };
}

function numberFrom(text: string | undefined, value: number | undefined, fallback: number): number {
  if (text !== undefined) return Number(text);
  return value ?? fallback;
}
