import type { RunLaunch } from '@rhythm/scheduling';
import type {
  ContainerInfo,
  EnvironmentVariable,
  Label,
  Resource,
  TaskInfo,
} from '../wire/mesos-messages';

/**
 * The TaskInfo of one run: a command task (no custom executor) with the job's command, user,
 * environment, container and labels. Fixes of the original: the Mesos containerizer's image goes
 * to `container.mesos.image`, labels carry no empty leading entries, an empty user is left out
 * (so the framework's user applies), and numbers are written as plain decimals.
 */
export function buildTaskInfo(
  run: RunLaunch,
  secrets: Readonly<Record<string, string>>,
  agentId: string,
  resources: Resource[],
): TaskInfo {
  const { spec } = run;
  const variables: EnvironmentVariable[] = [
    { name: 'RHYTHM_TASK_ID', type: 'VALUE', value: run.taskId },
    { name: 'RHYTHM_SCHEDULED_TIME', type: 'VALUE', value: run.scheduledAt.toISOString() },
    { name: 'RHYTHM_CPU', type: 'VALUE', value: decimal(spec.cpus) },
    { name: 'RHYTHM_MEM', type: 'VALUE', value: decimal(spec.mem) },
    { name: 'RHYTHM_DISK', type: 'VALUE', value: decimal(spec.disk) },
  ];
  // Later entries win in the task's environment: job env over Rhythm's, secrets over both.
  const named = new Map(variables.map((variable) => [variable.name, variable]));
  for (const [name, value] of Object.entries(spec.env)) {
    named.set(name, { name, type: 'VALUE', value });
  }
  for (const [name, value] of Object.entries(secrets)) {
    named.set(name, { name, type: 'VALUE', value });
  }
  const labels: Label[] = Object.entries(spec.labels).map(([key, value]) => ({ key, value }));
  return {
    name: `Task ${run.taskId}`,
    task_id: { value: run.taskId },
    agent_id: { value: agentId },
    resources,
    command: {
      environment: { variables: [...named.values()] },
      shell: spec.shell,
      value: spec.cmd,
      ...(spec.shell ? {} : { arguments: [spec.cmd, ...spec.arguments] }),
      ...(spec.user === '' ? {} : { user: spec.user }),
    },
    ...containerOf(run),
    ...(labels.length > 0 ? { labels: { labels } } : {}),
  };
}

function containerOf(run: RunLaunch): { container?: ContainerInfo } {
  const { container } = run.spec;
  if (container.type === 'Docker') {
    if (container.docker.image === '') return {};
    return {
      container: {
        type: 'DOCKER',
        docker: {
          image: container.docker.image,
          force_pull_image: container.docker.forcePullImage,
        },
      },
    };
  }
  return {
    container: {
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: container.mesos.image } } },
    },
  };
}

/** `%g` in Go wrote 1e+06 for a million; a plain decimal is what a shell script expects. */
function decimal(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
}
