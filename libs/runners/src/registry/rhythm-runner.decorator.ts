import type { Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/** What a runner declares about itself when it registers. */
export interface RunnerDefinition {
  /** The `runner.kind` jobs name it by; unique per instance. */
  readonly kind: string;
  /**
   * A class-validator class describing the options a job gives with `runner.kind`. Job definitions
   * are validated against it, and it appears in the OpenAPI document (name it `*.dto.ts` so the
   * Swagger plugin documents it). Absent: the runner takes no options.
   */
  readonly options?: Type<object>;
}

/**
 * Marks a provider class as a runner, found at boot wherever it is provided:
 * `@RhythmRunner({ kind: 'webhook', options: WebhookOptionsDto }) @Injectable() class …`.
 * Runners must be singleton class providers (not request-scoped, not useValue/useFactory).
 */
export const RhythmRunner = DiscoveryService.createDecorator<RunnerDefinition>();
