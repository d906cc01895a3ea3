import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';

/** Options every AWS runner takes. */
export class AwsActionOptionsDto {
  /**
   * A named account from the server's AWS configuration (its region, role and endpoint). Absent:
   * the SDK's default credentials, region and endpoint (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, …).
   * @example 'prod'
   */
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  account?: string | null;

  /**
   * Seconds the run waits for the resource to reach its target state before it fails (default:
   * the server's, 900 unless configured).
   * @example 600
   */
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  @Max(86_400, { message: 'must be at most 86400 (one day)' })
  @ApiPropertyOptional({ type: 'integer' })
  timeoutSeconds?: number | null;
}
