import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MasterInfo } from '../../infrastructure/wire/mesos-messages';
import { newMasterId } from './ids';
import { MESOS_VERSION } from './options';

export type MasterHandler = (
  master: SimulatedMaster,
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<void>;

/**
 * One master process: its identity and its HTTP server. Which master leads, and the cluster
 * state, live in `MasterCore`; a non-leading master only redirects.
 */
export class SimulatedMaster {
  readonly id = newMasterId();
  readonly startTime = Date.now();
  electedTime: number | null = null;
  private readonly server: Server;
  private boundPort = 0;
  private frameworkSequence = 0;
  private offerSequence = 0;
  private agentSequence = 0;

  constructor(
    readonly index: number,
    readonly host: string,
    private readonly requestedPort: number,
    handler: MasterHandler,
  ) {
    this.server = createServer((req, res) => {
      handler(this, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.requestedPort, this.host, () => resolve());
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  nextFrameworkSequence(): number {
    return this.frameworkSequence++;
  }

  nextOfferSequence(): number {
    return this.offerSequence++;
  }

  nextAgentSequence(): number {
    return this.agentSequence++;
  }

  /** `MasterInfo`, fields in `.proto` order. */
  info(): MasterInfo {
    return {
      id: this.id,
      ip: packIpv4(this.host),
      port: this.port,
      pid: `master@${this.host}:${this.port}`,
      hostname: this.host,
      version: MESOS_VERSION,
      address: { hostname: this.host, ip: this.host, port: this.port },
      capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, { type: 'QUOTA_V2' }],
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** `MasterInfo.ip`: the IPv4 address packed in network byte order, read as a host uint32. */
function packIpv4(host: string): number {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part))) return 0;
  return (parts[0] | (parts[1] << 8) | (parts[2] << 16) | (parts[3] << 24)) >>> 0;
}

/**
 * What a master that does not lead answers on the v1 endpoints: `307` to the leader with a
 * scheme-relative `Location: //host:port/<path>`, or `503` while no master leads.
 */
export function leadershipFailure(
  master: SimulatedMaster,
  leader: SimulatedMaster | null,
  requestUrl: string | undefined,
): { status: number; body: string; headers?: Record<string, string> } | null {
  if (leader === master) return null;
  if (leader === null) return { status: 503, body: 'No leader elected' };
  return {
    status: 307,
    body: '',
    headers: { Location: `//${leader.host}:${leader.port}${requestUrl ?? '/'}` },
  };
}
