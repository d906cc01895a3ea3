import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessService } from '@rhythm/authz';
import type { Request } from 'express';
import { ACCESS_METADATA, type AccessRequirement } from './access.decorator';
import { requestCredentials } from './request-credentials';

/**
 * Deny by default: a route without @Access needs no credentials only if it is meant to be open
 * (health, metrics, docs); every job route carries @Access.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.get<AccessRequirement | undefined>(
      ACCESS_METADATA,
      context.getHandler(),
    );
    if (!requirement) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const credentials = requestCredentials(request);
    if (requirement.on === 'caller') {
      this.access.assertPresented(credentials);
      return true;
    }
    if (requirement.on === 'authenticated') {
      await this.access.authenticate(credentials);
      return true;
    }
    const { group, project } = request.params;
    await this.access.require(
      credentials,
      { group: String(group), project: String(project) },
      requirement.level,
    );
    return true;
  }
}
