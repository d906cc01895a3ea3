export * from './domain/access-level';
export * from './domain/acl';
export * from './domain/authz.errors';
export * from './domain/credentials';
export {
  AUTHORIZER,
  type Authorizer,
  type CredentialScheme,
} from './application/ports/authorizer.port';
export { AccessService } from './application/access.service';
export * from './infrastructure/authorizer-options';
export { NoneAuthorizer } from './infrastructure/none.authorizer';
export { GitLabAuthorizer } from './infrastructure/gitlab/gitlab.authorizer';
export { TokensAuthorizer, parseTokensFile } from './infrastructure/tokens/tokens.authorizer';
export { CachingAuthorizer } from './infrastructure/caching/caching.authorizer';
export { AuthzModule, type AuthzModuleOptions } from './authz.module';
