import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_STATES, type JobState } from '@rhythm/jobs';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class ScheduleResponseDto {
  @ApiProperty({ enum: ['Cron'] })
  Type!: 'Cron';

  /** @example '*\/1 * * * *' */
  Cron!: string;

  /** Present when the job names its time zone. */
  Timezone?: string;
}

export class MissedRunsResponseDto {
  @ApiProperty({ enum: ['skip', 'once', 'all'] })
  Policy!: 'skip' | 'once' | 'all';

  /** Seconds. */
  StartingDeadline?: number;

  MaxCatchUp?: number;
}

export class RetryBackoffResponseDto {
  /** Seconds. */
  Backoff!: number;

  /** Seconds. */
  MaxBackoff!: number;
}

export class PausedResponseDto {
  /** RFC 3339. */
  Since!: string;

  /** RFC 3339; absent when the pause lasts until resumed. */
  Until?: string;
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

  /** RFC 3339: the next cron occurrence; `0001-01-01T00:00:00Z` when there is none. */
  NextStart!: string;

  /** Present when set. */
  MissedRuns?: MissedRunsResponseDto;

  /** Present when set. */
  RetryBackoff?: RetryBackoffResponseDto;

  /** Seconds; present when set. */
  Timeout?: number;

  /** Present when set: failed occurrences in a row after which the job pauses itself. */
  PauseAfterFailures?: number;

  /** Occurrences that failed in a row (after their retries); present when above 0. */
  ConsecutiveFailures?: number;

  /**
   * Present for jobs on a runner other than the command runner: `Kind`, then the runner's options
   * as the runner spells them.
   * @example { "Kind": "aws-ec2-instance", "action": "stop", "instanceIds": ["i-0abc"] }
   */
  Runner?: Record<string, unknown>;

  /** Present while the job is paused. */
  Paused?: PausedResponseDto;
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

  /** RFC 3339: the occurrence (cron time or run-now request) the run belonged to. */
  ScheduledAt?: string;

  @ApiPropertyOptional({ enum: ['cron', 'manual', 'retry', 'catch-up'] })
  Trigger?: string;

  /** 1 for the first attempt of an occurrence. */
  @ApiPropertyOptional({ type: 'integer' })
  Attempt?: number;

  @ApiPropertyOptional({ enum: ['Finished', 'Failed', 'Killed', 'Lost', 'Skipped'] })
  State?: string;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  ExitCode?: number | null;

  /** The runner that ran it, e.g. `local`. */
  Runner?: string;
}

/** A run waiting to start. */
export class PendingRunResponseDto {
  Group!: string;
  Project!: string;
  ID!: string;

  @ApiProperty({ enum: ['cron', 'manual', 'retry', 'catch-up'] })
  Trigger!: string;

  /** RFC 3339. */
  ScheduledAt!: string;

  /** RFC 3339: when it may start (after the job's current run, if one is in flight). */
  DueAt!: string;

  @ApiProperty({ type: 'integer' })
  Attempt!: number;
}

/** Kept output of a run. */
export class TaskLogResponseDto {
  @ApiProperty({ enum: ['stdout', 'stderr'] })
  Stream!: string;

  /** Byte offset of Data in the stream. */
  Offset!: number;

  /** Bytes the run wrote to the stream in all. */
  Size!: number;

  Data!: string;
}

/** One cron occurrence, in UTC and in the job's time zone (whose offset shows DST). */
export class OccurrenceResponseDto {
  /** RFC 3339 in UTC, as NextStart. */
  Time!: string;

  /** The same instant as local time in the job's time zone, with its offset. */
  Local!: string;
}

/** A job's upcoming cron occurrences. */
export class UpcomingScheduleResponseDto {
  Cron!: string;

  /** The time zone the cron is read in (the job's, or the server's default). */
  Timezone!: string;

  /** Whether the job is paused: its occurrences are skipped while it is. */
  Paused!: boolean;

  @ApiProperty({ type: [OccurrenceResponseDto] })
  NextStarts!: OccurrenceResponseDto[];
}
