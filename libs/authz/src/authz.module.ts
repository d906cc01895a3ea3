import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { AccessService } from './application/access.service';
import { AUTHORIZER, type Authorizer } from './application/ports/authorizer.port';
import type { AuthorizerBackendOptions } from './infrastructure/authorizer-options';
import { CachingAuthorizer } from './infrastructure/caching/caching.authorizer';
import { GitLabAuthorizer } from './infrastructure/gitlab/gitlab.authorizer';
import { LdapAuthorizer } from './infrastructure/ldap/ldap.authorizer';
import { NoneAuthorizer } from './infrastructure/none.authorizer';
import { TokensAuthorizer } from './infrastructure/tokens/tokens.authorizer';

export interface AuthzModuleOptions {
  readonly backend: AuthorizerBackendOptions;
  /** How long a decision is reused per credential and project (0: never). */
  readonly cacheTtlMs: number;
}

class AuthorizerCloser implements OnApplicationShutdown {
  constructor(@Inject(AUTHORIZER) private readonly authorizer: Authorizer) {}

  async onApplicationShutdown(): Promise<void> {
    await this.authorizer.close?.();
  }
}

/** Access decisions per group/project through the configured backend, cached. */
@Module({})
export class AuthzModule {
  static forRoot(options: AuthzModuleOptions): DynamicModule {
    return {
      module: AuthzModule,
      global: true,
      providers: [
        { provide: AUTHORIZER, useFactory: () => createAuthorizer(options) },
        AuthorizerCloser,
        AccessService,
      ],
      exports: [AccessService],
    };
  }
}

function createAuthorizer({ backend, cacheTtlMs }: AuthzModuleOptions): Authorizer {
  switch (backend.backend) {
    case 'none':
      return new NoneAuthorizer();
    case 'gitlab':
      return cached(new GitLabAuthorizer(backend.gitlab), cacheTtlMs);
    case 'ldap':
      return cached(new LdapAuthorizer(backend.ldap), cacheTtlMs);
    case 'tokens':
      return cached(new TokensAuthorizer(backend.tokens), cacheTtlMs);
  }
}

function cached(inner: Authorizer, ttlMs: number): Authorizer {
  return ttlMs > 0 ? new CachingAuthorizer(inner, { ttlMs }) : inner;
}
