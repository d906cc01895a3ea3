import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class PauseJobDto {
  /** RFC 3339 time at which the pause ends by itself; absent: until resumed. */
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'Must be an RFC 3339 time' })
  until?: Date | null;
}

export class TaskPageQueryDto {
  /** At most this many records; without `offset`, the most recent ones (still oldest first). */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  @Max(10_000, { message: 'Must be at most 10000' })
  limit?: number;

  /** Records to skip, counted from the oldest. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Must be an integer' })
  @Min(0, { message: 'Must be greater than or equal to 0' })
  offset?: number;
}

export class TaskLogQueryDto {
  @IsOptional()
  @IsIn(['stdout', 'stderr'], { message: "Must be 'stdout' or 'stderr'" })
  stream?: 'stdout' | 'stderr';

  /** Byte offset in the stream; before the kept window means its start. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Must be an integer' })
  @Min(0, { message: 'Must be greater than or equal to 0' })
  offset?: number;

  /** Bytes to read (default: all that is kept). */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  length?: number;
}

export class ScheduleQueryDto {
  /** How many occurrences (1-100, default 10). */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  @Max(100, { message: 'Must be at most 100' })
  count?: number;

  /** RFC 3339 time to count from (default: now); occurrences are strictly after it. */
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'Must be an RFC 3339 time' })
  from?: Date;
}
