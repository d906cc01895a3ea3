import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATES, type JobState } from '@rhythm/jobs';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class ScheduleResponseDto {
  @ApiProperty({ enum: ['Cron'] })
  Type!: 'Cron';

  /** @example '*\/1 * * * *' */
  Cron!: string;
}

export class DockerResponseDto {
  Image!: string;
  ForcePullImage!: boolean;
}

export class MesosResponseDto {
  Image!: string;
}

export class ContainerResponseDto {
  @ApiProperty({ enum: ['Docker', 'Mesos'] })
  Type!: 'Docker' | 'Mesos';

  /** Present when Type is Docker. */
  Docker?: DockerResponseDto;

  /** Present when Type is Mesos. */
  Mesos?: MesosResponseDto;
}

/** A job as the original Rhythm API shows it, Go-style field names included. */
export class JobResponseDto {
  Group!: string;
  Project!: string;
  ID!: string;
  Schedule!: ScheduleResponseDto;

  @ApiProperty(STRING_MAP)
  Env!: Record<string, string>;

  @ApiProperty(STRING_MAP)
  Secrets!: Record<string, string>;

  Container!: ContainerResponseDto;
  CPUs!: number;
  Mem!: number;
  Disk!: number;
  Cmd!: string;
  User!: string;
  Shell!: boolean;
  Arguments!: string[];

  @ApiProperty(STRING_MAP)
  Labels!: Record<string, string>;

  @ApiProperty({ type: 'integer' })
  MaxRetries!: number;

  @ApiProperty({ enum: JOB_STATES, enumName: 'JobState' })
  State!: JobState;

  /** RFC 3339; `0001-01-01T00:00:00Z` when the job never started. */
  LastStart!: string;

  CurrentTaskID!: string;
  CurrentAgentID!: string;

  @ApiProperty({ type: 'integer' })
  Retries!: number;
}

/** One run of a job. Message, Reason and Source are empty only for successful runs. */
export class TaskResponseDto {
  /** RFC 3339. */
  Start!: string;
  /** RFC 3339. */
  End!: string;
  TaskID!: string;
  ExecutorID!: string;
  AgentID!: string;
  FrameworkID!: string;
  ExecutorURL!: string;
  Message!: string;
  Reason!: string;
  Source!: string;
}
