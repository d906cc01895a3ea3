import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsIn, IsString, Matches } from 'class-validator';
import { AwsActionOptionsDto } from './aws-action-options.dto';

export const RDS_INSTANCE_ACTIONS = ['start', 'stop'] as const;
export type RdsInstanceAction = (typeof RDS_INSTANCE_ACTIONS)[number];

/** `aws-rds-instance`: starts or stops an RDS DB instance, then waits for its status. */
export class AwsRdsInstanceOptionsDto extends AwsActionOptionsDto {
  /** `start` waits until the instance is available, `stop` until it is stopped. */
  @IsDefined({ message: 'is required' })
  @IsIn(RDS_INSTANCE_ACTIONS, { message: 'must be one of start, stop' })
  @ApiProperty({ enum: RDS_INSTANCE_ACTIONS, enumName: 'AwsRdsInstanceAction' })
  action!: RdsInstanceAction;

  /** @example "orders-db" */
  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @Matches(/^[A-Za-z][A-Za-z0-9-]{0,62}$/, {
    message: 'must be a DB instance identifier: a letter, then up to 62 letters, digits or hyphens',
  })
  dbInstanceIdentifier!: string;
}
