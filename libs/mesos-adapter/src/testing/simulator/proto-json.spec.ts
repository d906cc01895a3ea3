import { SCHEDULER_CALL } from './call-schemas';
import { parseProtoJson } from './proto-json';

describe('parseProtoJson (the master JSON → Call conversion)', () => {
  const parse = (value: unknown) => parseProtoJson(SCHEDULER_CALL, value);

  it('keeps known fields by proto name and ignores unknown keys', () => {
    const result = parse({
      type: 'DECLINE',
      framework_id: { value: 'f', extra: 1 },
      frameworkId: { value: 'camelCase is not a proto name' },
      decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 5 } },
    });
    expect(result).toEqual({
      ok: true,
      message: {
        type: 'DECLINE',
        framework_id: { value: 'f' },
        decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 5 } },
      },
    });
  });

  it('treats null as unset and accepts numbers written as strings', () => {
    const result = parse({
      type: 'DECLINE',
      framework_id: null,
      decline: { filters: { refuse_seconds: '2.5' } },
    });
    expect(result).toEqual({
      ok: true,
      message: { type: 'DECLINE', decline: { filters: { refuse_seconds: 2.5 } } },
    });
  });

  it('drops an unknown optional enum but fails an unknown required one', () => {
    expect(parse({ type: 'LATER' })).toEqual({ ok: true, message: {} });
    const resource = { name: 'cpus', type: 'FLOAT', scalar: { value: 1 } };
    const call = {
      type: 'ACCEPT',
      accept: {
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 't',
                  task_id: { value: 't' },
                  agent_id: { value: 'a' },
                  resources: [resource],
                },
              ],
            },
          },
        ],
      },
    };
    expect(parse(call)).toEqual({ ok: false, error: "Failed to find enum for 'FLOAT'" });
  });

  it('names the field a JSON value cannot go into, as stout does', () => {
    expect(parse({ type: ['SUBSCRIBE'] })).toEqual({
      ok: false,
      error: "Not expecting a JSON array for field 'type'",
    });
    expect(parse({ framework_id: 7 })).toEqual({
      ok: false,
      error: "Not expecting a JSON number for field 'framework_id'",
    });
    expect(
      parse({ subscribe: { framework_info: { user: 'u', name: 'n', checkpoint: 'yes' } } }),
    ).toEqual({
      ok: false,
      error: "Not expecting a JSON string for field 'checkpoint'",
    });
    expect(parse({ acknowledge: { uuid: 'not base64!' } })).toEqual({
      ok: false,
      error: "Failed to base64 decode bytes field 'uuid': Invalid character",
    });
  });

  it('lists every missing required field with its path', () => {
    const result = parse({
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: 'o' }, {}],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't' }] } }],
      },
    });
    expect(result).toEqual({
      ok: false,
      error:
        'Missing required fields: accept.offer_ids[1].value, ' +
        'accept.operations[0].launch.task_infos[0].task_id, ' +
        'accept.operations[0].launch.task_infos[0].agent_id',
    });
  });
});
