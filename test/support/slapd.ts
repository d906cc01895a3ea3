import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port';
import { killProcess, waitForPort } from './server-process';

/** The directory the LDAP tests use: people, groups and a service account under dc=rhythm,dc=test. */
export const TEST_DIRECTORY_LDIF = join(__dirname, 'ldap', 'directory.ldif');

const INSTALL_HINT =
  'Install it (Debian: DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils); ' +
  'the LDAP tests start their own slapd and cannot run without it.';

export interface SlapdStartOptions {
  /** LDIF file loaded with slapadd before the server starts; it must hold the suffix entry. */
  readonly ldif: string;
  /**
   * Also listen on ldaps:// with a server certificate for 127.0.0.1 signed by a CA generated for
   * this server, and refuse every operation on a plain connection until StartTLS (`security
   * tls=1`), so a test can tell that StartTLS really happened.
   */
  readonly tls?: boolean;
}

interface TlsFiles {
  readonly ldapsPort: number;
  readonly caCertFile: string;
  readonly otherCaCertFile: string;
}

/**
 * A real OpenLDAP slapd on a free loopback port, owned by the test that starts it: generated
 * slapd.conf (mdb backend, suffix dc=rhythm,dc=test, rootdn cn=admin), data loaded with slapadd,
 * run in the foreground as the current user. It never touches a system slapd or port 389.
 */
export class SlapdServer {
  readonly suffix = 'dc=rhythm,dc=test';
  readonly adminDn = 'cn=admin,dc=rhythm,dc=test';
  readonly adminPassword = 'admin-pw';
  private process: ChildProcess | null = null;
  private stderr = '';

  private constructor(
    private readonly slapd: string,
    readonly port: number,
    private readonly dir: string,
    private readonly tls: TlsFiles | null,
  ) {}

  /** `ldap://127.0.0.1:<port>` (StartTLS-capable when started with `tls`). */
  get url(): string {
    return `ldap://127.0.0.1:${this.port}`;
  }

  /** `ldaps://127.0.0.1:<port>`; only when started with `tls`. */
  get ldapsUrl(): string {
    return `ldaps://127.0.0.1:${this.tlsFiles().ldapsPort}`;
  }

  /** PEM of the CA that signed the server certificate; only when started with `tls`. */
  get caCertFile(): string {
    return this.tlsFiles().caCertFile;
  }

  /** PEM of a CA that did not sign the server certificate, for negative tests. */
  get otherCaCertFile(): string {
    return this.tlsFiles().otherCaCertFile;
  }

  static async start(options: SlapdStartOptions): Promise<SlapdServer> {
    const slapd = findSlapd();
    const dir = mkdtempSync(join(tmpdir(), 'rhythm-slapd-'));
    try {
      const port = await freePort();
      const tls = options.tls ? await makeTlsFiles(dir) : null;
      const server = new SlapdServer(slapd, port, dir, tls);
      server.writeConfig();
      server.load(options.ldif);
      await server.launch();
      return server;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Stops the server abruptly (SIGKILL), as a crash would; the data directory stays. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    await killProcess(child);
  }

  /** Starts it again on the same port(s) and data. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private tlsFiles(): TlsFiles {
    if (!this.tls) throw new Error('this slapd was started without tls');
    return this.tls;
  }

  private get configFile(): string {
    return join(this.dir, 'slapd.conf');
  }

  private writeConfig(): void {
    const data = join(this.dir, 'data');
    mkdirSync(data);
    const schema = ['core', 'cosine', 'nis', 'inetorgperson'];
    const lines = [
      ...schema.map((name) => `include /etc/ldap/schema/${name}.schema`),
      `pidfile ${join(this.dir, 'slapd.pid')}`,
      `argsfile ${join(this.dir, 'slapd.args')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'loglevel none',
    ];
    if (this.tls) {
      lines.push(
        `TLSCACertificateFile ${this.tls.caCertFile}`,
        `TLSCertificateFile ${join(this.dir, 'server.pem')}`,
        `TLSCertificateKeyFile ${join(this.dir, 'server.key')}`,
        'security tls=1',
      );
    }
    lines.push(
      'database mdb',
      'maxsize 16777216',
      `suffix "${this.suffix}"`,
      `rootdn "${this.adminDn}"`,
      `rootpw ${this.adminPassword}`,
      `directory ${data}`,
      'index objectClass eq',
      '',
    );
    writeFileSync(this.configFile, lines.join('\n'));
  }

  private load(ldif: string): void {
    const slapadd = spawnSync(this.slapd, ['-T', 'add', '-f', this.configFile, '-l', ldif], {
      encoding: 'utf8',
    });
    if (slapadd.error) throw slapadd.error;
    if (slapadd.status !== 0) {
      throw new Error(`slapadd of ${ldif} failed (${slapadd.status}): ${slapadd.stderr.trim()}`);
    }
  }

  private async launch(): Promise<void> {
    const urls = [`ldap://127.0.0.1:${this.port}/`];
    if (this.tls) urls.push(`ldaps://127.0.0.1:${this.tls.ldapsPort}/`);
    this.stderr = '';
    const child = spawn(this.slapd, ['-f', this.configFile, '-h', urls.join(' '), '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.process = child;
    try {
      await waitForPort('slapd', this.port, child, () => this.stderr);
      if (this.tls) await waitForPort('slapd', this.tls.ldapsPort, child, () => this.stderr);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }
}

function findSlapd(): string {
  const dirs = ['/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'slapd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`slapd was found neither in /usr/sbin nor on PATH. ${INSTALL_HINT}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA. */
async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const openssl = (args: string[]): void => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.error) {
      throw new Error(
        'openssl was not found on PATH; the LDAP TLS tests need it to make certificates ' +
          '(Debian: apt-get install -y openssl).',
      );
    }
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE'];
  caExt.push('-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const name of ['ca', 'other-ca']) {
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=Rhythm test ${name}`,
      ...caExt,
    ]);
  }
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  return {
    ldapsPort: await freePort(),
    caCertFile: join(dir, 'ca.pem'),
    otherCaCertFile: join(dir, 'other-ca.pem'),
  };
}
