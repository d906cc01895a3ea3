import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  IsObject,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { HasContainerImage } from './container.validator';
import { IsCronExpression, IsTimezone } from './cron.validator';
import {
  JobName,
  NonNegativeInteger,
  NonNegativeNumber,
  OptionalBoolean,
  OptionalString,
  OptionalStringList,
  OptionalStringMap,
  PositiveNumber,
} from './job-field.decorators';

export class ScheduleDto {
  /**
   * Five fields: minute, hour, day of month, month, day of week (0-6, Sunday is 0). Lists, ranges,
   * steps, `?`, and month and weekday names work; the expression must fire at least once.
   * @example '*\/5 * * * *'
   */
  @IsDefined({ message: 'Is required' })
  @IsCronExpression()
  cron!: string;

  /**
   * IANA time zone the cron is read in (default: the server's RHYTHM_TIMEZONE, itself UTC by
   * default). On a spring-forward day a time in the skipped hour runs once, at the first valid
   * time after it; on a fall-back day a time in the repeated hour runs once, in the first pass.
   * @example 'Europe/Warsaw'
   */
  @IsOptional()
  @IsTimezone()
  timezone?: string | null;
}

export class MissedRunsDto {
  /**
   * What happens to occurrences that could not start on time (downtime, leader change, a long
   * run): `skip` runs only an occurrence at most `startingdeadline` (default 60 s) late; `once`
   * (default) runs the latest one once; `all` runs each, one after another, up to `maxcatchup`.
   */
  @IsDefined({ message: 'Is required' })
  @IsIn(['skip', 'once', 'all'], { message: "Must be one of 'skip', 'once', 'all'" })
  @ApiPropertyOptional({ enum: ['skip', 'once', 'all'], default: 'once' })
  policy!: 'skip' | 'once' | 'all';

  /** Seconds: an occurrence later than this never starts (default: no limit; 60 for skip). */
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  startingdeadline?: number | null;

  /** With `all`: most missed occurrences run (default 10). */
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  @Max(1000, { message: 'Must be at most 1000' })
  maxcatchup?: number | null;
}

export class RetryBackoffDto {
  /** Seconds before the first retry, doubled for each further one (default 10). */
  @IsDefined({ message: 'Is required' })
  @IsInt({ message: 'Must be an integer' })
  @Min(0, { message: 'Must be greater than or equal to 0' })
  backoff!: number;

  /** Seconds: the longest wait between retries (default 600). */
  @IsDefined({ message: 'Is required' })
  @IsInt({ message: 'Must be an integer' })
  @Min(0, { message: 'Must be greater than or equal to 0' })
  maxbackoff!: number;
}

export class DockerImageDto {
  /** @example 'alpine:3.8' */
  @IsDefined({ message: 'Is required' })
  @IsString({ message: 'Must be a string' })
  @MinLength(1, { message: 'Must not be empty' })
  image!: string;

  /** Pull the image even when the agent has it. */
  @IsOptional()
  @IsBoolean({ message: 'Must be a boolean' })
  forcepullimage?: boolean;
}

export class MesosImageDto {
  /** An image for the Mesos containerizer. */
  @IsDefined({ message: 'Is required' })
  @IsString({ message: 'Must be a string' })
  @MinLength(1, { message: 'Must not be empty' })
  image!: string;
}

export class NewContainerDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => DockerImageDto)
  docker?: DockerImageDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => MesosImageDto)
  mesos?: MesosImageDto;
}

/**
 * Fields a new job and an update share. In an update, absent or null means unchanged, and maps,
 * lists and policies are replaced whole.
 */
export class JobOptionsDto {
  /** Environment variables of the task. */
  @OptionalStringMap()
  env?: Record<string, string> | null;

  /** Environment variable name → secret path, resolved at launch. */
  @OptionalStringMap()
  secrets?: Record<string, string> | null;

  /** Disk in MB; 0 asks for none. */
  @NonNegativeNumber({ required: false })
  disk?: number | null;

  /** @example 'echo $FOO' */
  @OptionalString()
  cmd?: string | null;

  /** The user the task runs as. */
  @OptionalString()
  user?: string | null;

  /** Run `cmd` through `/bin/sh -c` (default true); otherwise run it with `arguments`. */
  @OptionalBoolean()
  shell?: boolean | null;

  @OptionalStringList()
  arguments?: string[] | null;

  @OptionalStringMap()
  labels?: Record<string, string> | null;

  /** How many times a failed run is retried. */
  @NonNegativeInteger({ required: false })
  maxretries?: number | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => MissedRunsDto)
  missedruns?: MissedRunsDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => RetryBackoffDto)
  retrybackoff?: RetryBackoffDto | null;

  /** Seconds: a run still going after this long is killed and recorded as failed. */
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  timeout?: number | null;

  /**
   * The job pauses itself once this many occurrences in a row have failed (each after its
   * retries); resume it to start counting again. 0 (or absent on create): never.
   */
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(0, { message: 'Must be greater than or equal to 0' })
  pauseafterfailures?: number | null;

  /**
   * Runs the job on a runner other than the command runner (Mesos when configured, otherwise
   * local processes): `{"kind": "<runner>", ...options}`. The options each runner takes are in
   * the schemas named `*OptionsDto`; their names match case-insensitively, nested keys keep their
   * case. An update replaces the runner whole.
   * @example { "kind": "aws-ec2-instance", "action": "stop", "instanceIds": ["i-0abc"] }
   */
  @IsOptional()
  @IsObject({ message: 'Must be an object with a kind' })
  runner?: Record<string, unknown> | null;
}

/** Jobs on a runner other than the command runner may leave out what only commands use. */
const needsCommandFields = (dto: CreateJobDto): boolean =>
  dto.runner === undefined || dto.runner === null;

/** A new job. Keys match case-insensitively, so a job copied from a GET answer can be posted back. */
export class CreateJobDto extends JobOptionsDto {
  /** @example 'group' */
  @JobName()
  group!: string;

  /** @example 'project' */
  @JobName()
  project!: string;

  /** @example 'id' */
  @JobName()
  id!: string;

  @IsDefined({ message: 'Is required' })
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule!: ScheduleDto;

  /** Exactly one of `docker` and `mesos`. Optional for jobs with a `runner`. */
  @ValidateIf(
    (dto: CreateJobDto) =>
      needsCommandFields(dto) || (dto.container !== undefined && dto.container !== null),
  )
  @IsDefined({ message: 'Is required' })
  @HasContainerImage('exactly-one')
  @ValidateNested()
  @Type(() => NewContainerDto)
  container?: NewContainerDto;

  /** Optional for jobs with a `runner`. @example 1 */
  @ValidateIf(
    (dto: CreateJobDto) => needsCommandFields(dto) || (dto.cpus !== undefined && dto.cpus !== null),
  )
  @PositiveNumber({ required: true, conditionally: true })
  cpus?: number;

  /** Memory in MB. Optional for jobs with a `runner`. @example 128 */
  @ValidateIf(
    (dto: CreateJobDto) => needsCommandFields(dto) || (dto.mem !== undefined && dto.mem !== null),
  )
  @PositiveNumber({ required: true, conditionally: true })
  mem?: number;
}
