import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { AwsActionOptionsDto } from './aws-action-options.dto';

/** `aws-ecs-service`: sets an ECS service's desired count, then waits until it runs that many. */
export class AwsEcsServiceOptionsDto extends AwsActionOptionsDto {
  /** The cluster's name or ARN. @example "prod" */
  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  cluster!: string;

  /** The service's name or ARN. @example "web" */
  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  service!: string;

  /** The number of tasks the service should run; 0 scales it down. @example 0 */
  @IsDefined({ message: 'is required' })
  @IsInt({ message: 'must be an integer' })
  @Min(0, { message: 'must be at least 0' })
  @Max(10_000, { message: 'must be at most 10000' })
  @ApiProperty({ type: 'integer' })
  desiredCount!: number;
}
