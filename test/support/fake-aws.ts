import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeAwsService = 'ec2' | 'rds' | 'ecs' | 'sts';

/** What the fake saw of one request. */
export interface FakeAwsRequest {
  readonly service: FakeAwsService;
  readonly action: string;
  /** Query protocols: the form fields as sent (`InstanceId.1`, …); ECS: the JSON body. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The access key id the request was signed with (`Credential=<id>/…` in Authorization). */
  readonly accessKeyId: string | undefined;
  /** The region of the signature's credential scope. */
  readonly region: string | undefined;
  /** `X-Amz-Security-Token`: present when signed with temporary credentials. */
  readonly sessionToken: string | undefined;
  /** The status the fake answered with. */
  status: number;
}

/** An error answer given instead of the real one to the next matching requests. */
export interface FakeAwsFault {
  readonly service: FakeAwsService;
  /** Absent: any action of the service. */
  readonly action?: string;
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  /** How many matching requests get it; default 1. */
  readonly times?: number;
}

export type FakeInstanceState =
  'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** How many describe calls a resource in transition needs before it settles; Infinity: never. */
export interface FakeTransition {
  readonly pollsToSettle?: number;
}

export interface FakeTaskDefinitionBehaviour {
  /** DescribeTasks calls before a task is RUNNING (PROVISIONING, PENDING, then RUNNING). */
  readonly pollsToRun?: number;
  /** The task stops before it starts, with this reason. */
  readonly stoppedReason?: string;
  /** RunTask places no task and answers this failure reason instead (e.g. `RESOURCE:MEMORY`). */
  readonly failureReason?: string;
}

interface Instance {
  readonly id: string;
  state: FakeInstanceState;
  polls: number;
  readonly pollsToSettle: number;
}

interface DbInstance {
  readonly id: string;
  status: string;
  polls: number;
  readonly pollsToSettle: number;
}

interface Service {
  readonly name: string;
  readonly cluster: string;
  desiredCount: number;
  runningCount: number;
  status: string;
  readonly stuck: boolean;
}

interface EcsTask {
  readonly arn: string;
  readonly cluster: string;
  readonly taskDefinitionArn: string;
  lastStatus: string;
  polls: number;
  startedAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  readonly behaviour: FakeTaskDefinitionBehaviour;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const EC2_VERSION = '2016-11-15';
const RDS_VERSION = '2014-10-31';
const STS_VERSION = '2011-06-15';
const SERVICE_BY_VERSION: ReadonlyMap<string, FakeAwsService> = new Map([
  [EC2_VERSION, 'ec2'],
  [RDS_VERSION, 'rds'],
  [STS_VERSION, 'sts'],
]);
const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
const DEFAULT_POLLS = 2;

const INSTANCE_STATE_CODES: Readonly<Record<FakeInstanceState, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** Where each transitional state settles. */
const INSTANCE_SETTLES_TO: Partial<Record<FakeInstanceState, FakeInstanceState>> = {
  pending: 'running',
  stopping: 'stopped',
  'shutting-down': 'terminated',
};
const DB_SETTLES_TO: Readonly<Partial<Record<string, string>>> = {
  starting: 'available',
  stopping: 'stopped',
};

const DEFAULT_FAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: 'Rate exceeded',
  Throttling: 'Rate exceeded',
  RequestLimitExceeded: 'Request limit exceeded.',
  UnauthorizedOperation: 'You are not authorized to perform this operation.',
  AccessDenied: 'User is not authorized to perform this action',
  AccessDeniedException: 'User is not authorized to perform this action',
  InternalError: 'An internal error has occurred',
  InternalFailure: 'An internal error has occurred',
  ServerException: 'An internal error has occurred',
  ServiceUnavailable: 'Service is unavailable',
  Unavailable: 'The server is overloaded',
};

/**
 * A local AWS for the EC2 and RDS query protocols (form-encoded requests, XML answers), the ECS
 * JSON 1.1 protocol and STS AssumeRole, on a free loopback port, so that the real SDK v3 clients
 * can be pointed at it (`endpoint`, or `AWS_ENDPOINT_URL`). Requests are routed as the SDK sends
 * them: `X-Amz-Target` means ECS, otherwise the form's `Version` names the service.
 *
 * Resources are state machines driven by describe calls: an instance started is `pending` for
 * `pollsToSettle` DescribeInstances calls, then `running`; a DB `starting` becomes `available`;
 * an ECS service moves its runningCount one step towards desiredCount per DescribeServices; a task
 * goes PROVISIONING, PENDING, RUNNING. `fail()` injects error answers (throttling, 5xx, access
 * denied…), and every request is recorded with its service, action, params and signing key.
 * Signatures are not checked.
 */
export class FakeAws {
  readonly requests: FakeAwsRequest[] = [];

  private readonly instances = new Map<string, Instance>();
  private readonly dbInstances = new Map<string, DbInstance>();
  private readonly clusters = new Set<string>();
  private readonly services = new Map<string, Service>();
  private readonly taskDefinitions = new Map<string, FakeTaskDefinitionBehaviour>();
  private readonly tasks = new Map<string, EcsTask>();
  private readonly faults: Array<FakeAwsFault & { remaining: number }> = [];
  private issuedKeys = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeAws> {
    const server = http.createServer();
    const fake = new FakeAws(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => fake.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Closes the server and every keep-alive connection the SDK holds to it. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Recorded requests of one service, and action when given. */
  requestsOf(service: FakeAwsService, action?: string): FakeAwsRequest[] {
    return this.requests.filter(
      (request) =>
        request.service === service && (action === undefined || request.action === action),
    );
  }

  /** Answers the next `times` (default 1) matching requests with an error. */
  fail(fault: FakeAwsFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  addInstance(id: string, state: FakeInstanceState, transition: FakeTransition = {}): void {
    this.instances.set(id, {
      id,
      state,
      polls: 0,
      pollsToSettle: transition.pollsToSettle ?? DEFAULT_POLLS,
    });
  }

  instanceState(id: string): FakeInstanceState | undefined {
    return this.instances.get(id)?.state;
  }

  setInstanceState(id: string, state: FakeInstanceState): void {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`no instance ${id}`);
    instance.state = state;
    instance.polls = 0;
  }

  addDbInstance(id: string, status: string, transition: FakeTransition = {}): void {
    this.dbInstances.set(id, {
      id,
      status,
      polls: 0,
      pollsToSettle: transition.pollsToSettle ?? DEFAULT_POLLS,
    });
  }

  dbInstanceStatus(id: string): string | undefined {
    return this.dbInstances.get(id)?.status;
  }

  addCluster(name: string): void {
    this.clusters.add(name);
  }

  addService(
    cluster: string,
    name: string,
    counts: { readonly desiredCount: number; readonly runningCount?: number; stuck?: boolean },
  ): void {
    this.clusters.add(cluster);
    this.services.set(`${cluster}/${name}`, {
      name,
      cluster,
      desiredCount: counts.desiredCount,
      runningCount: counts.runningCount ?? counts.desiredCount,
      status: 'ACTIVE',
      stuck: counts.stuck ?? false,
    });
  }

  serviceCounts(cluster: string, name: string): { desired: number; running: number } | undefined {
    const service = this.services.get(`${cluster}/${name}`);
    return service && { desired: service.desiredCount, running: service.runningCount };
  }

  addTaskDefinition(family: string, behaviour: FakeTaskDefinitionBehaviour = {}): void {
    this.taskDefinitions.set(family, behaviour);
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const target = header(req, 'x-amz-target');
    const form = target === undefined ? new URLSearchParams(body) : null;
    const service = target !== undefined ? 'ecs' : serviceOf(form, header(req, 'authorization'));
    let action: string;
    let params: Record<string, unknown>;
    if (target !== undefined) {
      action = target.startsWith(ECS_TARGET_PREFIX) ? target.slice(ECS_TARGET_PREFIX.length) : '';
      params = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    } else {
      action = form?.get('Action') ?? '';
      params = Object.fromEntries(form ?? []);
    }
    const credential = /Credential=([^/]+)\/[^/]+\/([^/]+)\//.exec(
      header(req, 'authorization') ?? '',
    );
    const seen: FakeAwsRequest = {
      service: service ?? 'ec2',
      action,
      params,
      accessKeyId: credential?.[1],
      region: credential?.[2],
      sessionToken: header(req, 'x-amz-security-token'),
      status: 0,
    };
    this.requests.push(seen);

    let status = 200;
    let answer: string;
    try {
      if (!service) throw new AwsError(400, 'InvalidAction', 'Cannot tell the service apart');
      this.injectedFault(service, action);
      answer = this.answer(service, action, params);
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      status = error.status;
      answer = errorBody(seen.service, error);
    }
    seen.status = status;
    res.writeHead(status, {
      'content-type':
        seen.service === 'ecs' ? 'application/x-amz-json-1.1' : 'text/xml;charset=UTF-8',
      'x-amzn-requestid': randomUUID(),
    });
    res.end(answer);
  }

  private injectedFault(service: FakeAwsService, action: string): void {
    const index = this.faults.findIndex(
      (fault) => fault.service === service && (fault.action ?? action) === action,
    );
    if (index < 0) return;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    throw new AwsError(
      fault.status,
      fault.code,
      fault.message ?? DEFAULT_FAULT_MESSAGES[fault.code] ?? fault.code,
    );
  }

  private answer(
    service: FakeAwsService,
    action: string,
    params: Readonly<Record<string, unknown>>,
  ): string {
    switch (service) {
      case 'ec2':
        return this.ec2(action, params as Readonly<Record<string, string>>);
      case 'rds':
        return this.rds(action, params as Readonly<Record<string, string>>);
      case 'sts':
        return this.sts(action, params as Readonly<Record<string, string>>);
      case 'ecs':
        return JSON.stringify(this.ecs(action, params));
    }
  }

  // EC2 ------------------------------------------------------------------------------------------

  private ec2(action: string, params: Readonly<Record<string, string>>): string {
    const ids = listParam(params, 'InstanceId');
    switch (action) {
      case 'StartInstances':
        return this.changeInstances('StartInstancesResponse', ids, (instance) => {
          if (instance.state === 'stopped') return 'pending';
          if (instance.state === 'running' || instance.state === 'pending') return instance.state;
          throw incorrectState(instance, 'started');
        });
      case 'StopInstances':
        return this.changeInstances('StopInstancesResponse', ids, (instance) => {
          if (instance.state === 'running' || instance.state === 'pending') return 'stopping';
          if (instance.state === 'stopped' || instance.state === 'stopping') return instance.state;
          throw incorrectState(instance, 'stopped');
        });
      case 'RebootInstances': {
        for (const instance of this.instancesOf(ids)) {
          if (instance.state !== 'running') throw incorrectState(instance, 'rebooted');
        }
        return ec2Xml('RebootInstancesResponse', '<return>true</return>');
      }
      case 'DescribeInstances': {
        const items = this.instancesOf(ids).map((instance) => {
          const next = INSTANCE_SETTLES_TO[instance.state];
          if (next && settles(instance)) instance.state = next;
          return (
            `<item><instanceId>${instance.id}</instanceId><imageId>ami-0abcdef1234567890</imageId>` +
            `<instanceState><code>${INSTANCE_STATE_CODES[instance.state]}</code>` +
            `<name>${instance.state}</name></instanceState>` +
            '<instanceType>t3.micro</instanceType></item>'
          );
        });
        return ec2Xml(
          'DescribeInstancesResponse',
          '<reservationSet><item><reservationId>r-0123456789abcdef0</reservationId>' +
            `<ownerId>${ACCOUNT_ID}</ownerId><groupSet/>` +
            `<instancesSet>${items.join('')}</instancesSet></item></reservationSet>`,
        );
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${action} is not valid`);
    }
  }

  private changeInstances(
    response: string,
    ids: readonly string[],
    next: (instance: Instance) => FakeInstanceState,
  ): string {
    const instances = this.instancesOf(ids);
    const changes = instances.map((instance) => ({ instance, to: next(instance) }));
    const items = changes.map(({ instance, to }) => {
      const previous = instance.state;
      if (to !== previous) {
        instance.state = to;
        instance.polls = 0;
      }
      return (
        `<item><instanceId>${instance.id}</instanceId>` +
        `<currentState><code>${INSTANCE_STATE_CODES[to]}</code><name>${to}</name></currentState>` +
        `<previousState><code>${INSTANCE_STATE_CODES[previous]}</code><name>${previous}</name>` +
        '</previousState></item>'
      );
    });
    return ec2Xml(response, `<instancesSet>${items.join('')}</instancesSet>`);
  }

  private instancesOf(ids: readonly string[]): Instance[] {
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length === 1) {
      throw new AwsError(
        400,
        'InvalidInstanceID.NotFound',
        `The instance ID '${missing[0]}' does not exist`,
      );
    }
    if (missing.length > 1) {
      throw new AwsError(
        400,
        'InvalidInstanceID.NotFound',
        `The instance IDs '${missing.join(', ')}' do not exist`,
      );
    }
    return ids.map((id) => this.instances.get(id) as Instance);
  }

  // RDS ------------------------------------------------------------------------------------------

  private rds(action: string, params: Readonly<Record<string, string>>): string {
    const id = params.DBInstanceIdentifier ?? '';
    const db = this.dbInstances.get(id);
    if (!db && action !== 'DescribeDBInstances') throw dbNotFound(id);
    switch (action) {
      case 'StartDBInstance':
        if (db?.status !== 'stopped') {
          throw new AwsError(
            400,
            'InvalidDBInstanceState',
            `Instance ${id} is not stopped, cannot be started.`,
          );
        }
        setDbStatus(db, 'starting');
        return rdsXml(action, `<DBInstance>${dbXml(db)}</DBInstance>`);
      case 'StopDBInstance':
        if (db?.status !== 'available') {
          throw new AwsError(
            400,
            'InvalidDBInstanceState',
            `Instance ${id} is not in available state.`,
          );
        }
        setDbStatus(db, 'stopping');
        return rdsXml(action, `<DBInstance>${dbXml(db)}</DBInstance>`);
      case 'DescribeDBInstances': {
        const found = id === '' ? [...this.dbInstances.values()] : db ? [db] : [];
        if (id !== '' && !db) throw dbNotFound(id);
        for (const each of found) {
          const next = DB_SETTLES_TO[each.status];
          if (next && settles(each)) each.status = next;
        }
        const items = found.map((each) => `<DBInstance>${dbXml(each)}</DBInstance>`).join('');
        return rdsXml(action, `<DBInstances>${items}</DBInstances>`);
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${action} is not valid`);
    }
  }

  // STS ------------------------------------------------------------------------------------------

  private sts(action: string, params: Readonly<Record<string, string>>): string {
    if (action !== 'AssumeRole') {
      throw new AwsError(400, 'InvalidAction', `The action ${action} is not valid`);
    }
    this.issuedKeys += 1;
    const keyId = `ASIAFAKE${String(this.issuedKeys).padStart(8, '0')}`;
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const session = escapeXml(params.RoleSessionName ?? '');
    const role = escapeXml((params.RoleArn ?? '').replace(/^arn:aws:iam::(\d+):role\//, ''));
    return (
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/${STS_VERSION}/">` +
      '<AssumeRoleResult><AssumedRoleUser>' +
      `<AssumedRoleId>AROAFAKEROLE:${session}</AssumedRoleId>` +
      `<Arn>arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${session}</Arn>` +
      '</AssumedRoleUser><Credentials>' +
      `<AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>fake-secret-${this.issuedKeys}</SecretAccessKey>` +
      `<SessionToken>fake-session-token-${this.issuedKeys}</SessionToken>` +
      `<Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
      '</AssumeRoleResponse>'
    );
  }

  // ECS ------------------------------------------------------------------------------------------

  private ecs(action: string, params: Readonly<Record<string, unknown>>): object {
    const cluster = clusterName(params.cluster);
    if (!this.clusters.has(cluster)) {
      throw new AwsError(400, 'ClusterNotFoundException', 'Cluster not found.');
    }
    switch (action) {
      case 'UpdateService': {
        const service = this.services.get(`${cluster}/${String(params.service)}`);
        if (!service) throw new AwsError(400, 'ServiceNotFoundException', 'Service not found.');
        if (typeof params.desiredCount === 'number') service.desiredCount = params.desiredCount;
        return { service: serviceJson(service) };
      }
      case 'DescribeServices': {
        const names = Array.isArray(params.services) ? params.services.map(String) : [];
        const services: object[] = [];
        const failures: object[] = [];
        for (const name of names) {
          const service = this.services.get(`${cluster}/${name.replace(/^.*\//, '')}`);
          if (!service) {
            failures.push({ arn: serviceArn(cluster, name), reason: 'MISSING' });
            continue;
          }
          if (!service.stuck && service.runningCount !== service.desiredCount) {
            service.runningCount += service.runningCount < service.desiredCount ? 1 : -1;
          }
          services.push(serviceJson(service));
        }
        return { services, failures };
      }
      case 'RunTask':
        return this.runTask(cluster, params);
      case 'DescribeTasks': {
        const arns = Array.isArray(params.tasks) ? params.tasks.map(String) : [];
        const tasks: object[] = [];
        const failures: object[] = [];
        for (const arn of arns) {
          const task = this.tasks.get(arn);
          if (!task) {
            failures.push({ arn, reason: 'MISSING' });
            continue;
          }
          advanceTask(task);
          tasks.push(taskJson(task));
        }
        return { tasks, failures };
      }
      default:
        throw new AwsError(400, 'InvalidAction', `The action ${action} is not valid`);
    }
  }

  private runTask(cluster: string, params: Readonly<Record<string, unknown>>): object {
    const family = (typeof params.taskDefinition === 'string' ? params.taskDefinition : '').replace(
      /:\d+$/,
      '',
    );
    const behaviour = this.taskDefinitions.get(family);
    if (!behaviour) throw new AwsError(400, 'ClientException', 'TaskDefinition not found.');
    const count = typeof params.count === 'number' ? params.count : 1;
    if (behaviour.failureReason !== undefined) {
      return {
        tasks: [],
        failures: Array.from({ length: count }, () => ({
          arn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:container-instance/${cluster}/unplaced`,
          reason: behaviour.failureReason,
        })),
      };
    }
    const tasks = Array.from({ length: count }, () => {
      const id = randomUUID().replace(/-/g, '');
      const task: EcsTask = {
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task/${cluster}/${id}`,
        cluster,
        taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:task-definition/${family}:1`,
        lastStatus: 'PROVISIONING',
        polls: 0,
        behaviour,
      };
      this.tasks.set(task.arn, task);
      return taskJson(task);
    });
    return { tasks, failures: [] };
  }
}

/** Counts one describe call of a resource in transition: true once it had `pollsToSettle`. */
function settles(resource: { polls: number; readonly pollsToSettle: number }): boolean {
  resource.polls += 1;
  if (resource.polls < resource.pollsToSettle) return false;
  resource.polls = 0;
  return true;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function serviceOf(
  form: URLSearchParams | null,
  authorization: string | undefined,
): FakeAwsService | undefined {
  const byVersion = SERVICE_BY_VERSION.get(form?.get('Version') ?? '');
  if (byVersion) return byVersion;
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization ?? '')?.[1];
  return scope === 'ec2' || scope === 'rds' || scope === 'sts' ? scope : undefined;
}

/** `InstanceId.1`, `InstanceId.2`, … in order. */
function listParam(params: Readonly<Record<string, string>>, name: string): string[] {
  const values: string[] = [];
  for (let index = 1; params[`${name}.${index}`] !== undefined; index++) {
    values.push(params[`${name}.${index}`]);
  }
  return values;
}

function incorrectState(instance: Instance, verb: string): AwsError {
  return new AwsError(
    400,
    'IncorrectInstanceState',
    `The instance '${instance.id}' is not in a state from which it can be ${verb}.`,
  );
}

function dbNotFound(id: string): AwsError {
  return new AwsError(404, 'DBInstanceNotFound', `DBInstance ${id} not found.`);
}

function setDbStatus(db: DbInstance, status: string): void {
  db.status = status;
  db.polls = 0;
}

function dbXml(db: DbInstance): string {
  return (
    `<DBInstanceIdentifier>${escapeXml(db.id)}</DBInstanceIdentifier>` +
    `<DBInstanceStatus>${escapeXml(db.status)}</DBInstanceStatus><Engine>postgres</Engine>` +
    `<DBInstanceArn>arn:aws:rds:${REGION}:${ACCOUNT_ID}:db:${escapeXml(db.id)}</DBInstanceArn>`
  );
}

function clusterName(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value.replace(/^.*:cluster\//, '') : 'default';
}

function serviceArn(cluster: string, name: string): string {
  return `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:service/${cluster}/${name}`;
}

function serviceJson(service: Service): object {
  return {
    serviceArn: serviceArn(service.cluster, service.name),
    serviceName: service.name,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:cluster/${service.cluster}`,
    status: service.status,
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    pendingCount: 0,
  };
}

function advanceTask(task: EcsTask): void {
  if (task.lastStatus === 'RUNNING' || task.lastStatus === 'STOPPED') return;
  task.polls += 1;
  const now = Date.now() / 1000;
  if (task.behaviour.stoppedReason !== undefined) {
    task.lastStatus = 'STOPPED';
    task.stoppedAt = now;
    task.stoppedReason = task.behaviour.stoppedReason;
    return;
  }
  const pollsToRun = task.behaviour.pollsToRun ?? DEFAULT_POLLS;
  if (task.polls >= pollsToRun) {
    task.lastStatus = 'RUNNING';
    task.startedAt = now;
  } else {
    task.lastStatus = 'PENDING';
  }
}

function taskJson(task: EcsTask): object {
  return {
    taskArn: task.arn,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:cluster/${task.cluster}`,
    taskDefinitionArn: task.taskDefinitionArn,
    lastStatus: task.lastStatus,
    desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    ...(task.startedAt !== undefined && { startedAt: task.startedAt }),
    ...(task.stoppedAt !== undefined && { stoppedAt: task.stoppedAt }),
    ...(task.stoppedReason !== undefined && {
      stopCode: 'TaskFailedToStart',
      stoppedReason: task.stoppedReason,
    }),
  };
}

function ec2Xml(response: string, inner: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<${response} xmlns="http://ec2.amazonaws.com/doc/${EC2_VERSION}/">` +
    `<requestId>${randomUUID()}</requestId>${inner}</${response}>`
  );
}

function rdsXml(action: string, result: string): string {
  return (
    `<${action}Response xmlns="http://rds.amazonaws.com/doc/${RDS_VERSION}/">` +
    `<${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

/** The error answer each protocol gives. */
function errorBody(service: FakeAwsService, error: AwsError): string {
  const code = escapeXml(error.code);
  const message = escapeXml(error.message);
  switch (service) {
    case 'ecs':
      return JSON.stringify({ __type: error.code, message: error.message });
    case 'ec2':
      return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error>` +
        `</Errors><RequestID>${randomUUID()}</RequestID></Response>`
      );
    case 'rds':
    case 'sts': {
      const namespace =
        service === 'rds'
          ? `http://rds.amazonaws.com/doc/${RDS_VERSION}/`
          : `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
      return (
        `<ErrorResponse xmlns="${namespace}"><Error>` +
        `<Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code>` +
        `<Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
      );
    }
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}
