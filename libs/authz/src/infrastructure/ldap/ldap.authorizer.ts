import { readFileSync } from 'node:fs';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client, FilterParser, ResultCodeError, type Entry } from 'ldapts';
import type { Authorizer } from '../../application/ports/authorizer.port';
import { highest, type AccessLevel, type ProjectRef } from '../../domain/access-level';
import { aclLevel, type Acl } from '../../domain/acl';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import type { LdapAuthorizerOptions } from '../authorizer-options';
import { commonName, escapeDnValue, escapeFilterValue, parseDn } from './ldap-escape';

/** Where one of `addrs` points. */
interface Endpoint {
  readonly url: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
}

interface Waiter {
  readonly grant: () => void;
  readonly fail: (error: Error) => void;
}

/**
 * Result codes of a user bind that mean "wrong name or password" rather than "LDAP is broken":
 * noSuchObject (32), invalidDNSyntax (34), inappropriateAuthentication (48), invalidCredentials
 * (49).
 */
const REJECTED_BIND_CODES = new Set([32, 34, 48, 49]);

const PLACEHOLDER = /\{\{\s*\.(UserDN|Username)\s*\}\}/g;

/** An operation failed below LDAP (socket closed, timeout, TLS): the connection is unusable. */
class ConnectionFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * The original Rhythm's LDAP backend (Basic credentials; user ACL first, then the highest group
 * ACL), with these fixes: an empty password is rejected without asking LDAP (no unauthenticated
 * bind, so no impersonation); ACL keys are normalised like the names (case-insensitive unless
 * `caseSensitiveNames`); a group's `cn` is found whatever the case of the attribute type; bad
 * credentials are INVALID_CREDENTIALS (401) and an unreachable directory BACKEND_UNAVAILABLE (503),
 * not 500s; connections are pooled instead of dialled per check.
 *
 * Pool: at most `poolSize` connections are open; a check takes one (or waits up to `timeoutMs`),
 * re-binds on it from scratch and gives it back. A connection that failed below LDAP is dropped,
 * and ldapts' transparent reconnect is disabled (each Client owns exactly one socket), so a
 * reconnect can never silently skip StartTLS. A check whose reused connection turns out to be
 * dead is retried once on a new one.
 */
export class LdapAuthorizer implements Authorizer {
  readonly backend = 'ldap';
  readonly scheme = 'basic' as const;
  /** Most connections open at once (idle or in use). */
  protected readonly poolSize: number = 4;

  private readonly endpoints: readonly Endpoint[];
  private readonly ca: string | undefined;
  private readonly userAcl: ReadonlyMap<string, Acl>;
  private readonly groupAcl: ReadonlyMap<string, Acl>;
  private readonly idle: Client[] = [];
  private readonly sockets = new WeakMap<Client, Socket>();
  private readonly waiters: Waiter[] = [];
  private slotsInUse = 0;
  private closed = false;

  constructor(private readonly options: LdapAuthorizerOptions) {
    if (options.addrs.length === 0) throw new Error('LDAP addrs is empty');
    this.endpoints = options.addrs.map(parseEndpoint);
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(options.userAttr)) {
      throw new Error(`Invalid LDAP userattr: ${options.userAttr}`);
    }
    validateGroupFilter(options.groupFilter);
    this.ca = options.caCertFile ? readFileSync(options.caCertFile, 'utf8') : undefined;
    this.userAcl = this.normaliseKeys(options.userAcl);
    this.groupAcl = this.normaliseKeys(options.groupAcl);
  }

  async accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel> {
    if (credentials.kind !== 'basic') {
      throw new AuthzError(AuthzErrorCode.MISSING_CREDENTIALS, 'LDAP needs Basic credentials');
    }
    const { username, password } = credentials;
    // An empty password would be an unauthenticated bind, which many servers accept: never send it.
    if (username === '' || password === '') {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'Empty LDAP user name or password');
    }
    try {
      return await this.withConnection(false, (client) =>
        this.decide(client, username, password, ref),
      );
    } catch (error) {
      if (!(error instanceof ConnectionFailure)) throw error;
      // The pooled connection was dead (e.g. the server restarted): once more on a new one.
      try {
        return await this.withConnection(true, (client) =>
          this.decide(client, username, password, ref),
        );
      } catch (retryError) {
        if (retryError instanceof ConnectionFailure) throw unavailable(retryError.original);
        throw retryError;
      }
    }
  }

  /** A bind as the user (after the service bind and search, when configured) is the check. */
  async authenticate(credentials: Credentials): Promise<void> {
    // No job has an empty group: the decision only authenticates, and its ACL lookups find nothing.
    await this.accessLevel(credentials, { group: '', project: '' });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.fail(new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'LDAP authorizer closed'));
    }
    await Promise.all(this.idle.splice(0).map((client) => this.discard(client)));
  }

  /**
   * Opens a connection to the first reachable address (StartTLS on `ldap://` when configured).
   * Protected so tests can count connections.
   */
  protected async createClient(): Promise<Client> {
    const failures: string[] = [];
    for (const endpoint of this.endpoints) {
      let socket: Socket;
      try {
        socket = await this.dial(endpoint);
      } catch (error) {
        failures.push(`${endpoint.url}: ${messageOf(error)}`);
        continue;
      }
      const client = this.wrap(endpoint, socket);
      if (this.options.startTls && !endpoint.secure) {
        try {
          await client.startTLS(this.tlsOptions(endpoint));
        } catch (error) {
          failures.push(`${endpoint.url}: StartTLS failed: ${messageOf(error)}`);
          await this.discard(client);
          continue;
        }
      }
      return client;
    }
    throw new AuthzError(
      AuthzErrorCode.BACKEND_UNAVAILABLE,
      `No LDAP server reachable (${failures.join('; ')})`,
    );
  }

  private async decide(
    client: Client,
    username: string,
    password: string,
    ref: ProjectRef,
  ): Promise<AccessLevel> {
    const userDn = await this.userDn(client, username);
    await this.bindUser(client, userDn, password);
    const userLevel = aclLevel(this.userAcl.get(this.normalise(username)), ref);
    // As the original: a user entry that grants anything decides, even if a group grants more.
    if (userLevel !== 'none') return userLevel;
    const groups = await this.groups(client, userDn, username);
    return highest(groups.map((group) => aclLevel(this.groupAcl.get(group), ref)));
  }

  private async userDn(client: Client, username: string): Promise<string> {
    const { bindDn, bindPassword, userAttr, userDn } = this.options;
    if (!bindDn || !bindPassword) return `${userAttr}=${escapeDnValue(username)},${userDn}`;
    await ldapCall(() => client.bind(bindDn, bindPassword), 'LDAP service bind failed');
    const filter = `(${userAttr}=${escapeFilterValue(username)})`;
    const { searchEntries } = await ldapCall(
      () => client.search(userDn, { scope: 'sub', filter, attributes: ['1.1'] }),
      'LDAP user search failed',
    );
    const [entry] = searchEntries;
    if (!entry || searchEntries.length !== 1) {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'Unknown or ambiguous LDAP user');
    }
    return entry.dn;
  }

  private async bindUser(client: Client, dn: string, password: string): Promise<void> {
    try {
      await client.bind(dn, password);
    } catch (error) {
      if (error instanceof ResultCodeError && REJECTED_BIND_CODES.has(error.code)) {
        throw new AuthzError(
          AuthzErrorCode.INVALID_CREDENTIALS,
          'LDAP rejected the user name or password',
        );
      }
      if (error instanceof ResultCodeError) {
        throw unavailable(error, `LDAP user bind failed (result code ${error.code})`);
      }
      throw new ConnectionFailure(error);
    }
  }

  private async groups(client: Client, userDn: string, username: string): Promise<string[]> {
    const { groupDn, groupAttr, groupFilter } = this.options;
    const values = { UserDN: escapeFilterValue(userDn), Username: escapeFilterValue(username) };
    const filter = groupFilter.replace(PLACEHOLDER, (_, name: keyof typeof values) => values[name]);
    const { searchEntries } = await ldapCall(
      () => client.search(groupDn, { scope: 'sub', filter, attributes: [groupAttr] }),
      'LDAP group search failed',
    );
    const names = new Set<string>();
    for (const entry of searchEntries) {
      const attributeValues = valuesOf(entry, groupAttr);
      if (attributeValues.length > 0) {
        for (const value of attributeValues) names.add(this.normalise(groupNameOfValue(value)));
      } else {
        names.add(this.normalise(groupNameOfEntry(entry.dn)));
      }
    }
    return [...names];
  }

  private normalise(name: string): string {
    return this.options.caseSensitiveNames ? name : name.toLowerCase();
  }

  /** Keys as names are looked up; on a clash the key already in normal form wins, else the first. */
  private normaliseKeys(acls: Readonly<Record<string, Acl>>): ReadonlyMap<string, Acl> {
    const map = new Map<string, Acl>();
    for (const [name, acl] of Object.entries(acls)) {
      const key = this.normalise(name);
      if (!map.has(key) || key === name) map.set(key, acl);
    }
    return map;
  }

  // --- pool ---

  private async withConnection<T>(
    fresh: boolean,
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    await this.takeSlot();
    let client: Client;
    let reused: boolean;
    try {
      ({ client, reused } = await this.checkout(fresh));
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    let healthy = false;
    try {
      const result = await work(client);
      healthy = true;
      return result;
    } catch (error) {
      // The server answered (bad credentials, a refused search): the connection is fine.
      if (error instanceof AuthzError) {
        healthy = true;
        throw error;
      }
      if (!(error instanceof ConnectionFailure)) throw unavailable(error);
      if (reused && !fresh) throw error;
      throw unavailable(error.original);
    } finally {
      if (healthy && client.isConnected && !this.closed) this.idle.push(client);
      else await this.discard(client);
      this.releaseSlot();
    }
  }

  private async checkout(fresh: boolean): Promise<{ client: Client; reused: boolean }> {
    if (fresh) {
      // After a dead connection the other idle ones are suspect too.
      await Promise.all(this.idle.splice(0).map((client) => this.discard(client)));
    }
    for (let client = this.idle.pop(); client; client = this.idle.pop()) {
      if (client.isConnected) return { client, reused: true };
      await this.discard(client);
    }
    return { client: await this.createClient(), reused: false };
  }

  private takeSlot(): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'LDAP authorizer closed'),
      );
    }
    if (this.slotsInUse < this.poolSize) {
      this.slotsInUse++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new AuthzError(
            AuthzErrorCode.BACKEND_UNAVAILABLE,
            `All ${this.poolSize} LDAP connections stayed busy for ${this.options.timeoutMs} ms`,
          ),
        );
      }, this.options.timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Hands the slot to the next waiter, if any. */
  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.slotsInUse--;
  }

  private async discard(client: Client): Promise<void> {
    try {
      await client.unbind();
    } catch {
      // closing anyway
    } finally {
      this.sockets.get(client)?.destroy();
    }
  }

  // --- connections ---

  private dial(endpoint: Endpoint): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket: Socket = endpoint.secure
        ? tlsConnect({ ...this.tlsOptions(endpoint), port: endpoint.port })
        : netConnect({ host: endpoint.host, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      socket.once(endpoint.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      // Stays until ldapts takes the socket over, so an early reset cannot crash the process.
      socket.on('error', (error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      });
    });
  }

  /** A Client bound to this one socket: if it closes, ldapts may not open another. */
  private wrap(endpoint: Endpoint, socket: Socket): Client {
    let handedOut = false;
    const once = (): Socket => {
      if (handedOut || socket.destroyed) throw new Error('LDAP connection closed');
      handedOut = true;
      return socket;
    };
    const connection = once as unknown as typeof netConnect;
    const client = new Client({
      url: endpoint.url,
      timeout: this.options.timeoutMs,
      connectTimeout: this.options.timeoutMs,
      createConnection: connection,
      // For ldaps:// the socket is already TLS; for ldap:// the default upgrades for StartTLS.
      ...(endpoint.secure ? { createSecureConnection: once as unknown as typeof tlsConnect } : {}),
    });
    this.sockets.set(client, socket);
    return client;
  }

  private tlsOptions(endpoint: Endpoint): ConnectionOptions {
    return {
      host: endpoint.host,
      ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      ...(this.ca ? { ca: this.ca } : {}),
    };
  }
}

function parseEndpoint(addr: string): Endpoint {
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw new Error(`Invalid LDAP address: ${addr}`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'ldap' && scheme !== 'ldaps') throw new Error(`Invalid LDAP scheme: ${scheme}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`Invalid LDAP address: ${addr}`);
  const secure = scheme === 'ldaps';
  const port = url.port ? Number(url.port) : secure ? 636 : 389;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  return { url: `${scheme}://${urlHost}:${port}`, secure, host, port };
}

function validateGroupFilter(groupFilter: string): void {
  const rendered = groupFilter.replace(PLACEHOLDER, 'x');
  if (rendered.includes('{{')) {
    throw new Error(
      `Invalid LDAP groupfilter (only {{.UserDN}} and {{.Username}}): ${groupFilter}`,
    );
  }
  try {
    FilterParser.parseString(rendered);
  } catch (error) {
    throw new Error(`Invalid LDAP groupfilter ${groupFilter}: ${messageOf(error)}`);
  }
}

/** Runs an LDAP operation whose LDAP-level failure means the directory cannot answer. */
async function ldapCall<T>(operation: () => Promise<T>, what: string): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ResultCodeError) throw unavailable(error, `${what} (${error.message})`);
    throw new ConnectionFailure(error);
  }
}

function unavailable(cause: unknown, message?: string): AuthzError {
  return new AuthzError(
    AuthzErrorCode.BACKEND_UNAVAILABLE,
    message ?? `LDAP unavailable: ${messageOf(cause)}`,
    { cause },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The values of an attribute of a search entry, the attribute type matched case-insensitively. */
function valuesOf(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((name) => name !== 'dn' && name.toLowerCase() === wanted);
  const raw = key === undefined ? undefined : entry[key];
  if (raw === undefined) return [];
  const list: readonly (string | Buffer)[] = Array.isArray(raw) ? raw : [raw];
  return list.map((value) => (typeof value === 'string' ? value : value.toString('utf8')));
}

/** A group attribute value: the `cn` of it if it is a DN with one, else the value itself. */
function groupNameOfValue(value: string): string {
  const rdns = parseDn(value);
  return (rdns && commonName(rdns)) ?? value;
}

/** A group entry without the attribute: the `cn` in its DN, else its first RDN's value. */
function groupNameOfEntry(dn: string): string {
  const rdns = parseDn(dn);
  if (!rdns) return dn;
  return commonName(rdns) ?? rdns[0]?.[0]?.value ?? dn;
}
