import type { Acl } from '../domain/acl';

/** GitLab backend: access of the caller's personal access token on the GitLab project. */
export interface GitLabAuthorizerOptions {
  /** Base URL, e.g. `https://gitlab.example.com`. */
  readonly addr: string;
  /** PEM file of the CA that signed GitLab's certificate, if not a public one. */
  readonly caCertFile?: string;
  readonly timeoutMs: number;
}

/** LDAP backend, with the original Rhythm's `api.auth.ldap` settings. */
export interface LdapAuthorizerOptions {
  /** Tried in order: `ldap://host[:389]` or `ldaps://host[:636]`. */
  readonly addrs: readonly string[];
  /** Base DN of users, e.g. `ou=people,dc=example,dc=org`. */
  readonly userDn: string;
  /** Attribute holding the user name, e.g. `uid`. */
  readonly userAttr: string;
  /** Base DN of groups. */
  readonly groupDn: string;
  /** Attribute naming a group (default `cn`). */
  readonly groupAttr: string;
  /** Filter finding the user's groups, with `{{.UserDN}}` and `{{.Username}}` placeholders. */
  readonly groupFilter: string;
  /** Service account for searches; without it the user's DN is built from userAttr and userDn. */
  readonly bindDn?: string;
  readonly bindPassword?: string;
  /** Upgrade `ldap://` connections with StartTLS. */
  readonly startTls: boolean;
  readonly caCertFile?: string;
  readonly timeoutMs: number;
  readonly caseSensitiveNames: boolean;
  /** User name → ACL; consulted first. */
  readonly userAcl: Readonly<Record<string, Acl>>;
  /** Group name → ACL; the highest level over the user's groups wins. */
  readonly groupAcl: Readonly<Record<string, Acl>>;
}

export const DEFAULT_GROUP_FILTER =
  '(|(memberUid={{.Username}})(member={{.UserDN}})(uniqueMember={{.UserDN}}))';

/** Static tokens for service accounts and scripts: token → ACL. */
export interface TokensAuthorizerOptions {
  readonly tokens: Readonly<Record<string, Acl>>;
}

/** Which backend decides access, with its settings (`api.auth` of the original config file). */
export type AuthorizerBackendOptions =
  | { readonly backend: 'none' }
  | { readonly backend: 'gitlab'; readonly gitlab: GitLabAuthorizerOptions }
  | { readonly backend: 'ldap'; readonly ldap: LdapAuthorizerOptions }
  | { readonly backend: 'tokens'; readonly tokens: TokensAuthorizerOptions };
