import { Inject, Injectable, PayloadTooLargeException, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RHYTHM_CONFIG, type RhythmConfig } from '../config/rhythm-config';

/**
 * Reads the request body as bytes whatever its Content-Type, up to the configured limit (413 past
 * it, without buffering the rest). RequestValidationPipe decodes it, so decoding errors get the
 * API's error envelope and wording.
 */
@Injectable()
export class RawBodyMiddleware implements NestMiddleware {
  private readonly limit: number;

  constructor(@Inject(RHYTHM_CONFIG) config: RhythmConfig) {
    this.limit = config.api.bodyLimitBytes;
  }

  use(req: Request, _res: Response, next: NextFunction): void {
    // Reading an empty stream still costs a round of events; requests without bodies skip it.
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') return next();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.limit) return next(this.tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.limit && !failed) {
        failed = true;
        req.pause();
        next(this.tooLarge());
      } else if (!failed) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      if (failed) return;
      req.body = Buffer.concat(chunks);
      next();
    });
    req.on('error', (error) => {
      if (!failed) next(error);
    });
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException(`Request body exceeds the limit of ${this.limit} bytes`);
  }
}
