/**
 * Test helpers for runners, imported from `@rhythm/runners/testing` (they need jest and
 * @nestjs/testing, so the library's main entry does not export them).
 */
export {
  CONFORMANCE_SPEC,
  createRunnerTestModule,
  describeRunnerConformance,
  type ConformanceLaunch,
  type RunnerConformanceOptions,
  type RunnerConformanceSubject,
  type RunnerTestModule,
} from './runner-conformance';
