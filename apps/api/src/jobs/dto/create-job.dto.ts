import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsOptional,
  IsString,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { HasContainerImage } from './container.validator';
import { IsCronExpression } from './cron.validator';
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

/** A new job. Keys match case-insensitively, so a job copied from a GET answer can be posted back. */
export class CreateJobDto {
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

  /** Environment variables of the task. */
  @OptionalStringMap()
  env?: Record<string, string> | null;

  /** Environment variable name → secret path, resolved at launch. */
  @OptionalStringMap()
  secrets?: Record<string, string> | null;

  /** Exactly one of `docker` and `mesos`. */
  @IsDefined({ message: 'Is required' })
  @HasContainerImage('exactly-one')
  @ValidateNested()
  @Type(() => NewContainerDto)
  container!: NewContainerDto;

  /** @example 1 */
  @PositiveNumber({ required: true })
  cpus!: number;

  /** Memory in MB. @example 128 */
  @PositiveNumber({ required: true })
  mem!: number;

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
}
