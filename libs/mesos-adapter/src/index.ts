export { MesosModule } from './mesos.module';
export { MesosRunner, FRAMEWORK_ID_STATE } from './infrastructure/runner/mesos-runner';
export {
  DEFAULT_MESOS_TUNING,
  MESOS_RUNNER_OPTIONS,
  type MesosRunnerOptions,
} from './infrastructure/runner/mesos-runner.options';
export type { FrameworkInfo } from './infrastructure/wire/mesos-messages';
export {
  MesosClusterInspector,
  type ClusterAgent,
  type ClusterView,
  type ScalarResources,
} from './infrastructure/operator/mesos-cluster-inspector';
