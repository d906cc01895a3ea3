/**
 * Mesos v1 Operator HTTP API client: cluster queries against the leading master and sandbox log
 * reads from agents. Request-response only, over the shared transport.
 */
import {
  describeUrl,
  endpointUrl,
  isMasterUnavailable,
  MesosHttp,
  MesosHttpError,
  type MesosCredentials,
} from '../http/mesos-http';
import type {
  AgentInfo,
  GetAgentsResponse,
  GetFrameworksResponse,
  GetHealthResponse,
  GetMasterResponse,
  GetStateResponse,
  GetTasksResponse,
  OperatorAgent,
  OperatorCall,
  OperatorResponse,
  ReadFileResponse,
  VersionInfo,
} from '../wire/mesos-messages';

export const OPERATOR_PATH = '/api/v1';
const DEFAULT_AGENT_PORT = 5051;

export interface MesosOperatorClientOptions {
  /** Master base URLs such as `http://10.0.0.1:5050`; the first that answers is used. */
  masters: string[];
  credentials?: MesosCredentials;
  ca?: Buffer;
  /** Default 10 s. */
  requestTimeoutMs?: number;
  /** Scheme for agent URLs; default the scheme of the first master (clusters enable TLS as a whole). */
  agentScheme?: 'http' | 'https';
}

export interface SandboxFileChunk {
  /** Whole size of the file, which may be larger than `data`. */
  size: number;
  data: Buffer;
}

/** The master answered 200 with a body that is not the expected response. */
export class MesosProtocolError extends Error {
  override readonly name = 'MesosProtocolError';
}

export type SandboxFile = 'stdout' | 'stderr';

/**
 * Virtual path an agent serves a command task's sandbox file under. For command tasks the executor
 * id is the task id.
 */
export function sandboxPath(frameworkId: string, executorId: string, file: SandboxFile): string {
  return `/frameworks/${frameworkId}/executors/${executorId}/runs/latest/${file}`;
}

export class MesosOperatorClient {
  private readonly http: MesosHttp;
  private readonly agentScheme: 'http' | 'https';
  /** Index of the master that answered last; the next call starts there. */
  private preferredMaster = 0;

  constructor(private readonly options: MesosOperatorClientOptions) {
    if (options.masters.length === 0) throw new TypeError('No Mesos master URL configured');
    for (const master of options.masters) endpointUrl(master, OPERATOR_PATH); // fail fast
    const firstScheme = new URL(options.masters[0]).protocol;
    this.agentScheme = options.agentScheme ?? (firstScheme === 'https:' ? 'https' : 'http');
    this.http = new MesosHttp({
      credentials: options.credentials,
      ca: options.ca,
      requestTimeoutMs: options.requestTimeoutMs,
    });
  }

  async getHealth(signal?: AbortSignal): Promise<GetHealthResponse> {
    const response = await this.callMaster({ type: 'GET_HEALTH' }, signal);
    return required(response.get_health, 'GET_HEALTH');
  }

  async getVersion(signal?: AbortSignal): Promise<VersionInfo> {
    const response = await this.callMaster({ type: 'GET_VERSION' }, signal);
    return required(response.get_version?.version_info, 'GET_VERSION');
  }

  async getMaster(signal?: AbortSignal): Promise<GetMasterResponse> {
    const response = await this.callMaster({ type: 'GET_MASTER' }, signal);
    return required(response.get_master, 'GET_MASTER');
  }

  // List answers: the master may leave out a message whose fields are all empty.
  async getAgents(signal?: AbortSignal): Promise<GetAgentsResponse> {
    return (await this.callMaster({ type: 'GET_AGENTS' }, signal)).get_agents ?? {};
  }

  async getTasks(signal?: AbortSignal): Promise<GetTasksResponse> {
    return (await this.callMaster({ type: 'GET_TASKS' }, signal)).get_tasks ?? {};
  }

  async getFrameworks(signal?: AbortSignal): Promise<GetFrameworksResponse> {
    return (await this.callMaster({ type: 'GET_FRAMEWORKS' }, signal)).get_frameworks ?? {};
  }

  /** Everything at once; expensive on a large cluster. */
  async getState(signal?: AbortSignal): Promise<GetStateResponse> {
    return (await this.callMaster({ type: 'GET_STATE' }, signal)).get_state ?? {};
  }

  /**
   * An agent's base URL. Prefers the libprocess pid (`slave(1)@10.0.0.2:5051`) of a GET_AGENTS
   * entry, the address the master itself reaches the agent at; else AgentInfo's hostname and port.
   */
  agentUrl(agent: AgentInfo | OperatorAgent): string {
    const pid = 'agent_info' in agent ? agent.pid : undefined;
    const pidAddress = pid?.split('@')[1];
    if (pidAddress) return `${this.agentScheme}://${pidAddress}`;
    const info = 'agent_info' in agent ? agent.agent_info : agent;
    const host = info.hostname.includes(':') ? `[${info.hostname}]` : info.hostname;
    return `${this.agentScheme}://${host}:${info.port ?? DEFAULT_AGENT_PORT}`;
  }

  /**
   * Reads up to `length` bytes at `offset` of a file the agent serves (see `sandboxPath`).
   * Null when the agent does not have the file (404): the sandbox was garbage-collected or the
   * task never started.
   */
  async readFile(
    agentBaseUrl: string,
    path: string,
    offset: number,
    length: number,
    signal?: AbortSignal,
  ): Promise<SandboxFileChunk | null> {
    let response: OperatorResponse;
    try {
      response = await this.post(
        agentBaseUrl,
        { type: 'READ_FILE', read_file: { path, offset, length } },
        signal,
      );
    } catch (error) {
      if (error instanceof MesosHttpError && error.status === 404) return null;
      throw error;
    }
    const file: ReadFileResponse = required(response.read_file, 'READ_FILE');
    return { size: Number(file.size), data: Buffer.from(file.data ?? '', 'base64') };
  }

  /** Closes idle keep-alive connections (for shutdown; later calls reconnect). */
  close(): void {
    this.http.close();
  }

  /** Tries each master once, from the last one that answered; 307s lead to the leader. */
  private async callMaster(call: OperatorCall, signal?: AbortSignal): Promise<OperatorResponse> {
    const masters = this.options.masters;
    let lastError: unknown;
    for (let tried = 0; tried < masters.length; tried++) {
      const index = (this.preferredMaster + tried) % masters.length;
      try {
        const response = await this.post(masters[index], call, signal);
        this.preferredMaster = index;
        return response;
      } catch (error) {
        if (!isMasterUnavailable(error)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  private async post(
    baseUrl: string,
    call: OperatorCall,
    signal?: AbortSignal,
  ): Promise<OperatorResponse> {
    const response = await this.http.postJson(
      { baseUrl, path: OPERATOR_PATH, body: call, signal },
      200,
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new MesosProtocolError(`${describeUrl(baseUrl)} answered ${call.type} with non-JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw new MesosProtocolError(`${describeUrl(baseUrl)} answered ${call.type} with no object`);
    }
    return parsed as OperatorResponse;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null) {
    throw new MesosProtocolError(`Mesos answer to ${what} lacks its ${what.toLowerCase()} field`);
  }
  return value;
}
