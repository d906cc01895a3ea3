/**
 * Escaping of user input put into LDAP filters (RFC 4515) and distinguished names (RFC 4514), and
 * a parser for DN strings as servers return them. Hand-written so the exact rules are visible and
 * tested: a missed character here is an LDAP injection.
 */

const FILTER_SPECIALS: Readonly<Record<string, string>> = {
  '*': '\\2a',
  '(': '\\28',
  ')': '\\29',
  '\\': '\\5c',
  '\0': '\\00',
};

/**
 * Escapes a value for an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL become
 * `\2a`, `\28`, `\29`, `\5c` and `\00`. Other characters, non-ASCII included, stay as they are
 * (the client encodes the filter as UTF-8).
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (char) => FILTER_SPECIALS[char] ?? char);
}

/**
 * Escapes a value for one RDN of a distinguished name (RFC 4514 §2.4): `,` `+` `"` `\` `<` `>`
 * `;` `=` get a backslash, as do a leading `#` or space and a trailing space; NUL becomes `\00`.
 */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '\0') out += '\\00';
    else if (',+"\\<>;='.includes(char)) out += `\\${char}`;
    else if (i === 0 && (char === '#' || char === ' ')) out += `\\${char}`;
    else if (i === value.length - 1 && char === ' ') out += '\\ ';
    else out += char;
  }
  return out;
}

/** One `type=value` of an RDN, the value unescaped. */
export interface AttributeTypeAndValue {
  readonly type: string;
  readonly value: string;
}

/** A relative distinguished name: one or more (multi-valued, joined by `+`) type/value pairs. */
export type Rdn = readonly AttributeTypeAndValue[];

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERIC_OID = /^(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))+$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * Parses a DN string (RFC 4514, plus RFC 2253's `;` separator and optional spaces around
 * separators) into its RDNs, first (most specific) first. Returns `null` when the text is not a
 * DN, e.g. a plain group name. A `#hex` (BER) value is returned as written.
 */
export function parseDn(text: string): Rdn[] | null {
  const rdns: Rdn[] = [];
  let rdn: AttributeTypeAndValue[] = [];
  let i = 0;
  const n = text.length;
  const skipSpaces = (): void => {
    while (i < n && text[i] === ' ') i++;
  };
  skipSpaces();
  if (i === n) return null;
  while (i < n) {
    skipSpaces();
    const eq = text.indexOf('=', i);
    if (eq < 0) return null;
    let type = text.slice(i, eq).trim();
    if (/^oid\./i.test(type)) type = type.slice(4);
    if (!DESCR.test(type) && !NUMERIC_OID.test(type)) return null;
    i = eq + 1;
    skipSpaces();
    const bytes: number[] = [];
    let value: string;
    if (text[i] === '#') {
      const start = i;
      i++;
      while (i < n && /[0-9A-Fa-f]/.test(text[i])) i++;
      value = text.slice(start, i);
      if (value.length < 3 || value.length % 2 === 0) return null;
    } else if (text[i] === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') {
          if (i + 1 >= n) return null;
          i++;
        }
        const symbol = symbolAt(text, i);
        pushUtf8(bytes, symbol);
        i += symbol.length;
      }
      if (i >= n) return null;
      i++;
      value = Buffer.from(bytes).toString('utf8');
    } else {
      // Unquoted: ends at an unescaped `,` `;` or `+`; trailing unescaped spaces are dropped.
      let lastSignificant = 0;
      while (i < n && !',;+'.includes(text[i])) {
        const char = text[i];
        if (char === '\\') {
          const next = text.slice(i + 1, i + 3);
          if (HEX_PAIR.test(next)) {
            bytes.push(Number.parseInt(next, 16));
            i += 3;
          } else if (i + 1 < n) {
            const escaped = symbolAt(text, i + 1);
            pushUtf8(bytes, escaped);
            i += 1 + escaped.length;
          } else {
            return null;
          }
          lastSignificant = bytes.length;
          continue;
        }
        if (char === '"' || char === '\0') return null;
        const symbol = symbolAt(text, i);
        pushUtf8(bytes, symbol);
        if (char !== ' ') lastSignificant = bytes.length;
        i += symbol.length;
      }
      value = Buffer.from(bytes.slice(0, lastSignificant)).toString('utf8');
    }
    rdn.push({ type, value });
    skipSpaces();
    if (i === n) break;
    const separator = text[i];
    i++;
    if (separator === '+') continue;
    if (separator !== ',' && separator !== ';') return null;
    rdns.push(rdn);
    rdn = [];
    skipSpaces();
    if (i === n) return null;
  }
  rdns.push(rdn);
  return rdns;
}

/** The whole code point at `index` (two UTF-16 units for a surrogate pair). */
function symbolAt(text: string, index: number): string {
  return String.fromCodePoint(text.codePointAt(index) ?? 0);
}

function pushUtf8(bytes: number[], text: string): void {
  for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
}

const COMMON_NAME_TYPES = new Set(['cn', 'commonname', '2.5.4.3']);

/** The value of the first `cn` (any case, `commonName` or 2.5.4.3) in the DN, if any. */
export function commonName(rdns: readonly Rdn[]): string | undefined {
  for (const rdn of rdns) {
    for (const { type, value } of rdn) {
      if (COMMON_NAME_TYPES.has(type.toLowerCase())) return value;
    }
  }
  return undefined;
}
