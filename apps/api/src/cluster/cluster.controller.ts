import {
  Controller,
  Get,
  NotFoundException,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MesosClusterInspector, MesosRunner, type ScalarResources } from '@rhythm/mesos-adapter';
import { Access } from '../auth/access.decorator';
import { ApiErrors } from '../http/api-responses.decorator';
import { ClusterResponseDto, type ResourcesResponseDto } from './cluster-response.dto';

@ApiTags('operations')
@Controller('api/v1/cluster')
export class ClusterController {
  constructor(
    @Optional() private readonly inspector?: MesosClusterInspector,
    @Optional() private readonly runner?: MesosRunner,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The Mesos cluster',
    description:
      "The leading master's health, version and agents (Operator API), and this instance's " +
      'framework subscription (only the leader subscribes). 404 when no Mesos master is configured.',
  })
  @ApiOkResponse({ type: ClusterResponseDto })
  @ApiErrors(404)
  @Access({ on: 'authenticated' })
  async cluster(): Promise<ClusterResponseDto> {
    if (!this.inspector) throw new NotFoundException('No Mesos master is configured');
    const view = await this.inspector.inspect().catch((error: unknown) => {
      throw new ServiceUnavailableException(
        `Mesos masters unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    return {
      Masters: [...view.masters],
      Leader: view.leader,
      Healthy: view.healthy,
      Version: view.version,
      Framework: {
        ID: this.runner?.frameworkId ?? '',
        Subscribed: this.runner?.isSubscribed() ?? false,
      },
      Agents: view.agents.map((agent) => ({
        ID: agent.id,
        Hostname: agent.hostname,
        URL: agent.url,
        Active: agent.active,
        Resources: resources(agent.resources),
        Allocated: resources(agent.allocated),
      })),
    };
  }
}

function resources(scalars: ScalarResources): ResourcesResponseDto {
  return { CPUs: scalars.cpus, Mem: scalars.mem, Disk: scalars.disk };
}
