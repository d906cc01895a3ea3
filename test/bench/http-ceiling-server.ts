/**
 * The API's hot routes answered with nothing behind them, for `npm run bench`: what Express 5 (set
 * up as the API sets it up) and bare node:http reach on the machine at hand. The API's figures are
 * read against these ceilings; the machine's speed varies from day to day by a factor of two.
 *
 * Usage: node http-ceiling-server.js express|node PORT
 */
import express from 'express';
import * as http from 'node:http';

/** A job as `GET /api/v1/jobs/{group}/{project}/{id}` presents a seeded benchmark job. */
const JOB = {
  Group: 'group-0',
  Project: 'project-0',
  ID: 'job-0',
  Schedule: { Type: 'Cron', Cron: '0 0 1 1 *' },
  Env: { FOO: 'foo' },
  Secrets: {},
  Container: { Type: 'Docker', Docker: { Image: 'alpine:3.8', ForcePullImage: false } },
  CPUs: 1,
  Mem: 128,
  Disk: 0,
  Cmd: 'echo hi',
  User: '',
  Shell: true,
  Arguments: [],
  Labels: {},
  MaxRetries: 0,
  State: 'Idle',
  LastStart: '0001-01-01T00:00:00Z',
  CurrentTaskID: '',
  CurrentAgentID: '',
  Retries: 0,
  NextStart: '2027-01-01T00:00:00.000Z',
};
const HEALTH = { ServerTime: '', Version: 'ceiling', Leader: false };
const MAX_BODY = 1024 * 1024;

/** Reads a JSON body as the API does (raw bytes, then one parse); null when it is not JSON. */
function readJson(req: http.IncomingMessage, done: (body: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    try {
      done(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      done(null);
    }
  });
}

function expressServer(): http.Server {
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.get('/api/v1/health', (_req, res) => {
    res.json({ ...HEALTH, ServerTime: new Date().toISOString() });
  });
  app.get('/api/v1/jobs/:group/:project/:id', (req, res) => {
    res.json({ ...JOB, Group: req.params.group, Project: req.params.project, ID: req.params.id });
  });
  app.post('/api/v1/jobs', (req, res) => {
    readJson(req, (body) => {
      if (body === null) res.status(400).json({ Errors: ['JSON decoding failed'] });
      else res.status(204).end();
    });
  });
  return http.createServer(app);
}

function nodeServer(): http.Server {
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  return http.createServer((req, res) => {
    const parts = (req.url ?? '').split('?')[0].split('/');
    if (req.method === 'GET' && parts.length === 7 && parts[3] === 'jobs') {
      json(res, 200, { ...JOB, Group: parts[4], Project: parts[5], ID: parts[6] });
    } else if (req.method === 'GET' && req.url === '/api/v1/health') {
      json(res, 200, { ...HEALTH, ServerTime: new Date().toISOString() });
    } else if (req.method === 'POST' && req.url === '/api/v1/jobs') {
      readJson(req, (body) => {
        if (body === null) json(res, 400, { Errors: ['JSON decoding failed'] });
        else res.writeHead(204).end();
      });
    } else {
      json(res, 404, { Errors: ['Not found'] });
    }
  });
}

const [kind, port] = process.argv.slice(2);
if ((kind !== 'express' && kind !== 'node') || !Number.isInteger(Number(port))) {
  process.stderr.write('usage: http-ceiling-server express|node PORT\n');
  process.exit(2);
}
const server = kind === 'express' ? expressServer() : nodeServer();
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
