import { readFileSync } from 'node:fs';
import { DEFAULT_MESOS_TUNING, type MesosRunnerOptions } from '@rhythm/mesos-adapter';
import type { MesosConfig } from './mesos-config';

/** The FrameworkInfo and transport of the Mesos runner from the validated `mesos` config. */
export function mesosRunnerOptions(config: MesosConfig): MesosRunnerOptions {
  const labels = Object.entries(config.labels).map(([key, value]) => ({ key, value }));
  return {
    masters: config.masters,
    framework: {
      name: 'rhythm',
      user: config.user,
      roles: config.roles,
      // Handled: several roles, and the reasons and states of Mesos 1.x task updates.
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }],
      failover_timeout: config.failoverTimeoutSeconds,
      checkpoint: config.checkpoint,
      ...(config.principal ? { principal: config.principal } : {}),
      ...(config.hostname ? { hostname: config.hostname } : {}),
      ...(config.webuiUrl ? { webui_url: config.webuiUrl } : {}),
      ...(labels.length > 0 ? { labels: { labels } } : {}),
    },
    ...(config.basicAuth
      ? {
          credentials: {
            principal: config.basicAuth.username,
            secret: config.basicAuth.password,
          },
        }
      : {}),
    ...(config.caCertFile ? { ca: readFileSync(config.caCertFile) } : {}),
    ...DEFAULT_MESOS_TUNING,
  };
}
