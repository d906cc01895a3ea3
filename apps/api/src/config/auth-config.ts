import { readFileSync } from 'node:fs';
import { DEFAULT_GROUP_FILTER, isAccessLevel, parseTokensFile, type Acl } from '@rhythm/authz';
import { num, section, str, strings, type Env, type Section } from './config-section';
import type { AuthConfig } from './rhythm-config';

const BACKENDS = ['none', 'gitlab', 'ldap', 'tokens'] as const;

/**
 * The `api.auth` section of the original config file (keys as the original: `backend`,
 * `gitlab.addr`, `ldap.useracl`…) and RHYTHM_AUTH_* variables. Secrets (bind password, tokens)
 * can come from the environment or files, so the config file need not hold them.
 */
export function authConfig(env: Env, auth: Section, problems: string[]): AuthConfig {
  const backend = env.RHYTHM_AUTH ?? str(auth.backend) ?? 'none';
  switch (backend) {
    case 'none':
      return { backend };
    case 'gitlab':
      return { backend, gitlab: gitlabOptions(env, section(auth.gitlab), problems) };
    case 'ldap':
      return { backend, ldap: ldapOptions(env, section(auth.ldap), problems) };
    case 'tokens':
      return { backend, tokens: { tokens: tokensOption(env, section(auth.tokens), problems) } };
    default:
      problems.push(`auth backend '${backend}' must be one of ${BACKENDS.join(', ')}`);
      return { backend: 'none' };
  }
}

function gitlabOptions(env: Env, gitlab: Section, problems: string[]) {
  const addr = env.RHYTHM_GITLAB_ADDR ?? str(gitlab.addr) ?? '';
  if (addr === '') {
    problems.push('api.auth.gitlab.addr (RHYTHM_GITLAB_ADDR) is required for the gitlab backend');
  }
  const caCertFile = env.RHYTHM_GITLAB_CACERT ?? str(gitlab.cacert);
  return { addr, timeoutMs: num(gitlab.timeout) ?? 5000, ...(caCertFile ? { caCertFile } : {}) };
}

function ldapOptions(env: Env, ldap: Section, problems: string[]) {
  const addrs = env.RHYTHM_LDAP_ADDRS?.split(',').map((a) => a.trim()) ?? strings(ldap.addrs);
  if (addrs.length === 0) problems.push('api.auth.ldap.addrs is empty');
  const required = (key: string): string => {
    const value = str(ldap[key]) ?? '';
    if (value === '') problems.push(`api.auth.ldap.${key} is empty`);
    return value;
  };
  const bindDn = str(ldap.binddn);
  const bindPassword = env.RHYTHM_LDAP_BIND_PASSWORD ?? str(ldap.bindpassword);
  const caCertFile = str(ldap.cacert);
  return {
    addrs,
    userDn: required('userdn'),
    userAttr: required('userattr'),
    groupDn: required('groupdn'),
    groupAttr: str(ldap.groupattr) ?? 'cn',
    groupFilter: str(ldap.groupfilter) ?? DEFAULT_GROUP_FILTER,
    startTls: ldap.starttls === true,
    timeoutMs: num(ldap.timeout) ?? 5000,
    caseSensitiveNames: ldap.casesensitivenames === true,
    userAcl: aclMap(ldap.useracl, 'useracl', problems),
    groupAcl: aclMap(ldap.groupacl, 'groupacl', problems),
    ...(bindDn && bindPassword ? { bindDn, bindPassword } : {}),
    ...(caCertFile ? { caCertFile } : {}),
  };
}

function tokensOption(env: Env, tokens: Section, problems: string[]): Record<string, Acl> {
  const file = env.RHYTHM_TOKENS_FILE ?? str(tokens.file);
  const inline = env.RHYTHM_TOKENS;
  try {
    if (inline) return parseTokensFile(inline);
    if (file) return parseTokensFile(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(
      `tokens ${inline ? 'in RHYTHM_TOKENS' : `file ${file}`}: ${(error as Error).message}`,
    );
    return {};
  }
  problems.push(
    'the tokens backend needs RHYTHM_TOKENS_FILE (or api.auth.tokens.file) or RHYTHM_TOKENS',
  );
  return {};
}

/** `{name: {"g/p" | "g" | "*": "readonly" | "readwrite"}}`, validated as the original did. */
function aclMap(value: unknown, name: string, problems: string[]): Record<string, Acl> {
  if (value === undefined || value === null) return {};
  const out: Record<string, Acl> = {};
  for (const [who, rules] of Object.entries(section(value))) {
    const acl: Record<string, 'readonly' | 'readwrite'> = {};
    for (const [key, level] of Object.entries(section(rules))) {
      if (isAccessLevel(level) && level !== 'none') acl[key] = level;
      else {
        problems.push(`Invalid ${name}: invalid access level [${who}][${key}]: ${String(level)}`);
      }
    }
    out[who] = acl;
  }
  return out;
}
