import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { MESOS_RUNNER_OPTIONS, type MesosRunnerOptions } from '../runner/mesos-runner.options';
import type { OperatorAgent, Resource } from '../wire/mesos-messages';
import { MesosOperatorClient } from './mesos-operator-client';

export interface ClusterAgent {
  readonly id: string;
  readonly hostname: string;
  readonly url: string;
  readonly active: boolean;
  readonly resources: ScalarResources;
  readonly allocated: ScalarResources;
}

export interface ScalarResources {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
}

/** The cluster as the leading master sees it. */
export interface ClusterView {
  readonly masters: readonly string[];
  readonly healthy: boolean;
  readonly version: string;
  /** `host:port` of the leading master. */
  readonly leader: string;
  readonly agents: readonly ClusterAgent[];
}

/** Answers "what does the Mesos cluster look like" through the Operator API; any instance can. */
@Injectable()
export class MesosClusterInspector implements OnApplicationShutdown {
  private readonly operator: MesosOperatorClient;

  constructor(@Inject(MESOS_RUNNER_OPTIONS) private readonly options: MesosRunnerOptions) {
    this.operator = new MesosOperatorClient({
      masters: options.masters,
      credentials: options.credentials,
      ca: options.ca,
    });
  }

  onApplicationShutdown(): void {
    this.operator.close();
  }

  async inspect(): Promise<ClusterView> {
    const [health, version, master, agents] = await Promise.all([
      this.operator.getHealth(),
      this.operator.getVersion(),
      this.operator.getMaster(),
      this.operator.getAgents(),
    ]);
    const info = master.master_info;
    const host = info?.address?.hostname ?? info?.hostname ?? info?.address?.ip ?? '';
    return {
      masters: this.options.masters,
      healthy: health.healthy,
      version: version.version,
      leader: info ? `${host}:${info.port}` : '',
      agents: (agents.agents ?? []).map((agent) => this.agentView(agent)),
    };
  }

  private agentView(agent: OperatorAgent): ClusterAgent {
    return {
      id: agent.agent_info.id?.value ?? '',
      hostname: agent.agent_info.hostname,
      url: this.operator.agentUrl(agent),
      active: agent.active,
      resources: scalars(agent.total_resources ?? agent.agent_info.resources ?? []),
      allocated: scalars(agent.allocated_resources ?? []),
    };
  }
}

function scalars(resources: readonly Resource[]): ScalarResources {
  const sum = (name: string) =>
    resources
      .filter((resource) => resource.name === name && resource.scalar)
      .reduce((total, resource) => total + (resource.scalar?.value ?? 0), 0);
  return { cpus: sum('cpus'), mem: sum('mem'), disk: sum('disk') };
}
