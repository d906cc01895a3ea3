import { FilterParser } from 'ldapts';
import { commonName, escapeDnValue, escapeFilterValue, parseDn } from './ldap-escape';

describe('escapeFilterValue (RFC 4515)', () => {
  it.each([
    ['alice', 'alice'],
    ['*', '\\2a'],
    ['(', '\\28'],
    [')', '\\29'],
    ['\\', '\\5c'],
    ['\0', '\\00'],
    ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
    ['alice)(|(uid=*', 'alice\\29\\28|\\28uid=\\2a'],
    ['\\2a', '\\5c2a'],
    ['zoë 名前', 'zoë 名前'],
    ['a,b=c+d"e<f>g;h#i', 'a,b=c+d"e<f>g;h#i'],
  ])('%j → %j', (input, expected) => {
    expect(escapeFilterValue(input)).toBe(expected);
  });

  it.each(['*)(uid=*', 'x)(cn=*', '\\', '(&)', '\0*\\()'])(
    'keeps %j one literal equality value once parsed',
    (value) => {
      const filter = FilterParser.parseString(`(uid=${escapeFilterValue(value)})`);
      expect(filter.constructor.name).toBe('EqualityFilter');
      expect(filter).toMatchObject({ attribute: 'uid', value });
    },
  );
});

describe('escapeDnValue (RFC 4514)', () => {
  it.each([
    ['alice', 'alice'],
    ['x,y', 'x\\,y'],
    ['a+b', 'a\\+b'],
    ['"q"', '\\"q\\"'],
    ['a\\b', 'a\\\\b'],
    ['<a>', '\\<a\\>'],
    ['a;b', 'a\\;b'],
    ['a=b', 'a\\=b'],
    ['#a#', '\\#a#'],
    [' a b ', '\\ a b\\ '],
    [' ', '\\ '],
    ['a\0b', 'a\\00b'],
    ['alice,ou=x', 'alice\\,ou\\=x'],
    ["o'brien*()", "o'brien*()"],
    ['zoë', 'zoë'],
  ])('%j → %j', (input, expected) => {
    expect(escapeDnValue(input)).toBe(expected);
  });

  it.each(['x,y', 'a+b', '"q"', 'a\\b', ' lead', 'trail ', '#hash', 'a\0b', 'alice,ou=x', 'zoë'])(
    'round-trips %j through parseDn as one RDN value',
    (value) => {
      const rdns = parseDn(`uid=${escapeDnValue(value)},ou=people,dc=rhythm,dc=test`);
      expect(rdns).toHaveLength(4);
      expect(rdns?.[0]).toEqual([{ type: 'uid', value }]);
    },
  );
});

describe('parseDn', () => {
  it('splits RDNs and multi-valued RDNs', () => {
    expect(parseDn('cn=devs+gidNumber=1,ou=groups,dc=rhythm,dc=test')).toEqual([
      [
        { type: 'cn', value: 'devs' },
        { type: 'gidNumber', value: '1' },
      ],
      [{ type: 'ou', value: 'groups' }],
      [{ type: 'dc', value: 'rhythm' }],
      [{ type: 'dc', value: 'test' }],
    ]);
  });

  it('decodes hex escapes as UTF-8, as servers return them', () => {
    expect(parseDn('uid=x\\2Cy,ou=people')?.[0]).toEqual([{ type: 'uid', value: 'x,y' }]);
    expect(parseDn('cn=zo\\C3\\AB,ou=g')?.[0]).toEqual([{ type: 'cn', value: 'zoë' }]);
    expect(parseDn('uid=x)(cn\\3D*,ou=people')?.[0]).toEqual([{ type: 'uid', value: 'x)(cn=*' }]);
  });

  it('keeps escaped characters outside the BMP whole', () => {
    expect(parseDn('cn=\\😀"😀",ou=g')).toBeNull();
    expect(parseDn('cn=\\😀😀,ou=g')?.[0]).toEqual([{ type: 'cn', value: '😀😀' }]);
    expect(parseDn('cn="\\😀,😀",ou=g')?.[0]).toEqual([{ type: 'cn', value: '😀,😀' }]);
  });

  it('accepts quoted values, ";" separators, spaces around separators and OIDs', () => {
    expect(parseDn('CN="a,b" ; OU = x')).toEqual([
      [{ type: 'CN', value: 'a,b' }],
      [{ type: 'OU', value: 'x' }],
    ]);
    expect(parseDn('2.5.4.3=devs,dc=x')?.[0]).toEqual([{ type: '2.5.4.3', value: 'devs' }]);
    expect(parseDn('OID.2.5.4.3=devs')?.[0]).toEqual([{ type: '2.5.4.3', value: 'devs' }]);
    expect(parseDn('cn=#04024869')?.[0]).toEqual([{ type: 'cn', value: '#04024869' }]);
  });

  it.each(['devs', '', ' ', 'Team A', '=x', '1a=b', 'cn=a,', 'cn=a,,dc=b', 'cn="open', 'cn=a\\'])(
    'returns null for %j, which is not a DN',
    (text) => {
      expect(parseDn(text)).toBeNull();
    },
  );
});

describe('commonName', () => {
  it.each([
    ['cn=devs,ou=groups,dc=x', 'devs'],
    ['CN=Devs,OU=Groups,DC=x', 'Devs'],
    ['commonName=devs,dc=x', 'devs'],
    ['2.5.4.3=devs,dc=x', 'devs'],
    ['uid=alice,cn=people,dc=x', 'people'],
  ])('%j → %j', (dn, expected) => {
    expect(commonName(parseDn(dn) ?? [])).toBe(expected);
  });

  it('is undefined without a cn', () => {
    expect(commonName(parseDn('ou=devs,dc=x') ?? [])).toBeUndefined();
  });
});
