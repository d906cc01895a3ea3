/** A Mesos master and agents simulator for development and end-to-end tests. */
export {
  MesosSimulator,
  type AgentSnapshot,
  type FailoverOptions,
  type FrameworkSnapshot,
  type OfferSnapshot,
  type TaskSnapshot,
} from './mesos-simulator';
export {
  MESOS_VERSION,
  type AgentOptions,
  type MesosSimulatorOptions,
  type StaticReservation,
  type TaskRunnerKind,
} from './options';
export type { RecordedCall, RecordedEvent } from './recorder';
