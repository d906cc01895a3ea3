import type { FrameworkInfo } from '../../infrastructure/wire/mesos-messages';
import { MesosSimulator } from './mesos-simulator';
import { SchedulerProbe, post } from './scheduler-probe';

const FRAMEWORK: FrameworkInfo = {
  user: 'tester',
  name: 'spec',
  failover_timeout: 60,
  capabilities: [{ type: 'MULTI_ROLE' }],
  roles: ['*'],
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('scheduler endpoint', () => {
  let sim: MesosSimulator;
  const probes: SchedulerProbe[] = [];
  const subscribe = async (info: FrameworkInfo = FRAMEWORK, baseUrl?: string) => {
    const probe = await SchedulerProbe.subscribe(baseUrl ?? String(sim.leaderUrl), info);
    probes.push(probe);
    return probe;
  };

  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.close();
    await sim.stop();
  });

  describe('with one master', () => {
    beforeEach(async () => {
      sim = await MesosSimulator.start({
        heartbeatIntervalSeconds: 0.2,
        allocationIntervalMs: 50,
      });
    });

    it('answers SUBSCRIBE with a chunked stream: SUBSCRIBED first, then heartbeats', async () => {
      const probe = await subscribe();
      expect(probe.status).toBe(200);
      expect(probe.response.headers['content-type']).toBe('application/json');
      expect(probe.response.headers['transfer-encoding']).toBe('chunked');
      expect(probe.streamId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );

      await probe.next((event) => event.type === 'HEARTBEAT');
      const [subscribed, heartbeat] = probe.events;
      expect(subscribed.type).toBe('SUBSCRIBED');
      expect(subscribed.subscribed?.framework_id.value).toBe(`${sim.masterIds[0]}-0000`);
      expect(subscribed.subscribed?.heartbeat_interval_seconds).toBe(0.2);
      expect(subscribed.subscribed?.master_info).toMatchObject({
        id: sim.masterIds[0],
        ip: 16777343,
        port: Number(new URL(sim.masterUrls[0]).port),
        version: '1.11.0',
      });
      expect(heartbeat.type).toBe('HEARTBEAT');

      const start = Date.now();
      const count = () => probe.events.filter((event) => event.type === 'HEARTBEAT').length;
      await sim.waitFor(() => count() >= 4, 3000, 'heartbeats');
      // One immediately, then one every 0.2 s.
      expect(Date.now() - start).toBeGreaterThanOrEqual(400);
    });

    it('numbers frameworks under the master id and the second stream gets a new stream id', async () => {
      const first = await subscribe();
      const second = await subscribe({ ...FRAMEWORK, name: 'other' });
      await first.next((e) => e.type === 'SUBSCRIBED');
      await second.next((e) => e.type === 'SUBSCRIBED');
      expect(first.frameworkId).toBe(`${sim.masterIds[0]}-0000`);
      expect(second.frameworkId).toBe(`${sim.masterIds[0]}-0001`);
      expect(second.streamId).not.toBe(first.streamId);
    });

    it('answers malformed requests as the master does', async () => {
      const url = `${String(sim.leaderUrl)}/api/v1/scheduler`;
      const subscribeCall = { type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK } };

      const get = await post(url, '', {}, 'GET');
      expect(get.status).toBe(405);
      expect(get.headers['allow']).toBe('POST');

      const noType = await post(url, subscribeCall, {});
      expect([noType.status, noType.body]).toEqual([400, "Expecting 'Content-Type' to be present"]);

      const text = await post(url, subscribeCall, { 'Content-Type': 'text/plain' });
      expect([text.status, text.body]).toEqual([
        415,
        "Expecting 'Content-Type' of application/json or application/x-protobuf",
      ]);
      const protobuf = await post(url, subscribeCall, { 'Content-Type': 'application/x-protobuf' });
      expect(protobuf.status).toBe(415);

      const notAcceptable = await post(url, subscribeCall, {
        ...JSON_HEADERS,
        Accept: 'text/html',
      });
      expect([notAcceptable.status, notAcceptable.body]).toEqual([
        406,
        "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
      ]);

      const badJson = await post(url, '{"type": "SUBSCRIBE",', JSON_HEADERS);
      expect(badJson.status).toBe(400);
      expect(badJson.body).toMatch(/^Failed to parse body into JSON: /);

      const notObject = await post(url, '[1]', JSON_HEADERS);
      expect(notObject.body).toBe(
        'Failed to convert JSON into Call protobuf: Expecting a JSON object',
      );

      const missingUser = await post(
        url,
        { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x' } } },
        JSON_HEADERS,
      );
      expect([missingUser.status, missingUser.body]).toEqual([
        400,
        'Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info.user',
      ]);

      const wrongKind = await post(url, { type: 'SUBSCRIBE', framework_id: 'abc' }, JSON_HEADERS);
      expect(wrongKind.body).toBe(
        "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'framework_id'",
      );

      // An unknown enum name drops the optional `type`, which validation then misses.
      const unknownType = await post(url, { type: 'NOPE' }, JSON_HEADERS);
      expect(unknownType.body).toBe(
        "Failed to validate scheduler::Call: Expecting 'type' to be present",
      );

      const withStreamId = await post(url, subscribeCall, {
        ...JSON_HEADERS,
        'Mesos-Stream-Id': 'x',
      });
      expect([withStreamId.status, withStreamId.body]).toEqual([
        400,
        "Subscribe calls should not include the 'Mesos-Stream-Id' header",
      ]);

      const idMismatch = await post(
        url,
        { ...subscribeCall, framework_id: { value: 'other' } },
        JSON_HEADERS,
      );
      expect(idMismatch.body).toBe(
        "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'",
      );
    });

    it('checks the framework and its stream id on every other call', async () => {
      const url = `${String(sim.leaderUrl)}/api/v1/scheduler`;
      const probe = await subscribe();
      await probe.next((e) => e.type === 'SUBSCRIBED');
      const revive = { type: 'REVIVE' };

      const noFramework = await post(url, revive, JSON_HEADERS);
      expect(noFramework.body).toBe(
        "Failed to validate scheduler::Call: Expecting 'framework_id' to be present",
      );

      const unknown = await post(url, { ...revive, framework_id: { value: 'nope' } }, JSON_HEADERS);
      expect([unknown.status, unknown.body]).toEqual([400, 'Framework cannot be found']);

      const noHeader = await probe.call(revive, JSON_HEADERS);
      expect([noHeader.status, noHeader.body]).toEqual([
        400,
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
      ]);

      const wrongStream = await probe.call(revive, { ...JSON_HEADERS, 'Mesos-Stream-Id': 'abc' });
      expect([wrongStream.status, wrongStream.body]).toEqual([
        400,
        `The stream ID 'abc' included in this request didn't match the stream ID currently associated with framework ID ${probe.frameworkId}`,
      ]);

      const missingBody = await probe.call({ type: 'KILL' });
      expect(missingBody.body).toBe(
        "Failed to validate scheduler::Call: Expecting 'kill' to be present",
      );

      const badUuid = await probe.call({
        type: 'ACKNOWLEDGE',
        acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'AAAA' },
      });
      expect(badUuid.body).toBe('Failed to validate scheduler::Call: Not a valid UUID');

      const ok = await probe.call(revive);
      expect([ok.status, ok.body]).toEqual([202, '']);

      const recorded = sim.calls.map((call) => [call.type, call.status]);
      expect(recorded).toEqual([
        ['SUBSCRIBE', 200],
        ['REVIVE', 400],
        ['REVIVE', 400],
        ['REVIVE', 400],
        ['REVIVE', 400],
        ['KILL', 400],
        ['ACKNOWLEDGE', 400],
        ['REVIVE', 202],
      ]);
      expect(sim.calls[3].error).toBe(
        "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
      );
      expect(sim.calls[7].streamId).toBe(probe.streamId);
    });

    it('refuses calls with 403 once the stream is gone, until the framework re-subscribes', async () => {
      const probe = await subscribe();
      await probe.next((e) => e.type === 'SUBSCRIBED');
      const { frameworkId, streamId } = probe;
      probe.close();
      await sim.waitFor(
        () => sim.frameworks().find((f) => f.id === frameworkId)?.connected === false,
      );

      const refused = await post(
        `${String(sim.leaderUrl)}/api/v1/scheduler`,
        { type: 'REVIVE', framework_id: { value: frameworkId } },
        { ...JSON_HEADERS, 'Mesos-Stream-Id': streamId },
      );
      expect([refused.status, refused.body]).toEqual([403, 'Framework is not subscribed']);

      const again = await subscribe({ ...FRAMEWORK, id: { value: frameworkId } });
      await again.next((e) => e.type === 'SUBSCRIBED');
      expect(again.frameworkId).toBe(frameworkId);
      expect((await again.call({ type: 'REVIVE' })).status).toBe(202);
    });

    it('fails the old stream over when the framework subscribes again', async () => {
      const first = await subscribe();
      await first.next((e) => e.type === 'SUBSCRIBED');
      const second = await subscribe({ ...FRAMEWORK, id: { value: first.frameworkId } });
      await second.next((e) => e.type === 'SUBSCRIBED');

      const error = await first.next((e) => e.type === 'ERROR');
      expect(error.error?.message).toBe('Framework failed over');
      expect(await first.closed()).toBe('end');
      expect(second.frameworkId).toBe(first.frameworkId);
      expect(second.streamId).not.toBe(first.streamId);
      expect((await first.call({ type: 'REVIVE' })).status).toBe(400);
      expect((await second.call({ type: 'REVIVE' })).status).toBe(202);
    });

    it('TEARDOWN removes the framework, and its id is refused afterwards', async () => {
      const probe = await subscribe();
      await probe.next((e) => e.type === 'SUBSCRIBED');
      const answer = await probe.call({ type: 'TEARDOWN' });
      expect([answer.status, answer.body]).toEqual([202, '']);
      expect(await probe.closed()).toBe('end');

      const again = await subscribe({ ...FRAMEWORK, id: { value: probe.frameworkId } });
      expect(again.status).toBe(200);
      const error = await again.next(() => true);
      expect(error).toEqual({ type: 'ERROR', error: { message: 'Framework has been removed' } });
      expect(await again.closed()).toBe('end');
      expect(sim.frameworks()).toEqual([
        expect.objectContaining({ id: probe.frameworkId, removed: true, connected: false }),
      ]);
    });

    it('removes a disconnected framework when its failover timeout expires', async () => {
      const probe = await subscribe({ ...FRAMEWORK, failover_timeout: 0.2 });
      await probe.next((e) => e.type === 'SUBSCRIBED');
      sim.dropStreams();
      expect(await probe.closed()).toBe('aborted');
      expect(sim.frameworks()[0]).toMatchObject({ connected: false, removed: false });

      await sim.waitFor(() => sim.frameworks()[0].removed, 3000, 'framework removal');
      const again = await subscribe({ ...FRAMEWORK, id: { value: probe.frameworkId } });
      expect((await again.next(() => true)).error?.message).toBe('Framework has been removed');
    });

    it('keeps a disconnected framework within its failover timeout', async () => {
      const probe = await subscribe({ ...FRAMEWORK, failover_timeout: 5 });
      await probe.next((e) => e.type === 'SUBSCRIBED');
      sim.dropStreams();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await subscribe({ ...FRAMEWORK, id: { value: probe.frameworkId } });
      const first = await again.next(() => true);
      expect(first.type).toBe('SUBSCRIBED');
      expect(first.subscribed?.framework_id.value).toBe(probe.frameworkId);
    });

    it('refuses a subscription whose roles do not match its capabilities', async () => {
      const probe = await subscribe({ user: 'u', name: 'n', roles: ['a'] });
      expect(probe.status).toBe(200);
      const error = await probe.next(() => true);
      expect(error.error?.message).toBe(
        "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable",
      );
      expect(await probe.closed()).toBe('end');
    });
  });

  describe('with three masters', () => {
    beforeEach(async () => {
      sim = await MesosSimulator.start({ masters: 3, heartbeatIntervalSeconds: 1 });
    });

    it('redirects from a master that does not lead, on both scheduler paths', async () => {
      const leader = new URL(sim.masterUrls[0]);
      for (const path of ['/api/v1/scheduler', '/master/api/v1/scheduler']) {
        const answer = await post(
          `${sim.masterUrls[2]}${path}`,
          { type: 'SUBSCRIBE' },
          JSON_HEADERS,
        );
        expect(answer.status).toBe(307);
        expect(answer.headers['location']).toBe(`//${leader.host}${path}`);
      }
      expect(sim.calls.map((call) => [call.master, call.status])).toEqual([
        [2, 307],
        [2, 307],
      ]);
    });

    it('answers 503 while no master leads, then redirects to the new leader', async () => {
      const url = `${sim.masterUrls[0]}/api/v1/scheduler`;
      const failover = sim.failover(1, { leaderlessMs: 300 });
      const during = await post(url, { type: 'SUBSCRIBE' }, JSON_HEADERS);
      expect([during.status, during.body]).toEqual([503, 'No leader elected']);
      await failover;
      expect(sim.leaderIndex).toBe(1);
      const after = await post(url, { type: 'SUBSCRIBE' }, JSON_HEADERS);
      expect(after.headers['location']).toBe(
        `//${new URL(sim.masterUrls[1]).host}/api/v1/scheduler`,
      );
    });

    it('drops streams on failover; the framework re-subscribes to the new leader with its id', async () => {
      const probe = await subscribe();
      await probe.next((e) => e.type === 'SUBSCRIBED');
      await sim.failover(2);
      expect(await probe.closed()).toBe('aborted');
      expect(sim.frameworks()[0]).toMatchObject({ recovered: true, connected: false });

      const again = await subscribe(
        { ...FRAMEWORK, id: { value: probe.frameworkId } },
        sim.masterUrls[2],
      );
      const subscribed = await again.next((e) => e.type === 'SUBSCRIBED');
      expect(subscribed.subscribed?.framework_id.value).toBe(probe.frameworkId);
      expect(subscribed.subscribed?.master_info?.id).toBe(sim.masterIds[2]);
      expect(sim.frameworks()[0]).toMatchObject({ recovered: false, connected: true });
    });
  });
});
