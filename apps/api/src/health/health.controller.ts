import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LEADER_ELECTION, type LeaderElection } from '@rhythm/scheduling';
import { RHYTHM_CONFIG, type RhythmConfig } from '../config/rhythm-config';
import { formatUnixDate } from './unix-date';

export class HealthResponseDto {
  /** Server time in Go's UnixDate format. @example 'Wed Oct 24 20:54:08 CEST 2018' */
  ServerTime!: string;
  /** @example '0.19.0' */
  Version!: string;
  /** Whether this instance is the elected leader, the one that launches runs. */
  Leader!: boolean;
}

@ApiTags('operations')
@Controller('api/v1/health')
export class HealthController {
  constructor(
    @Inject(RHYTHM_CONFIG) private readonly config: RhythmConfig,
    @Inject(LEADER_ELECTION) private readonly leader: LeaderElection,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Server health', description: 'Needs no credentials.' })
  @ApiOkResponse({ type: HealthResponseDto })
  health(): HealthResponseDto {
    return {
      ServerTime: formatUnixDate(new Date()),
      Version: this.config.version,
      Leader: this.leader.isLeader(),
    };
  }
}
