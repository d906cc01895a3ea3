/** The parts of an Express 5 router layer this reads. */
interface RouterLayer {
  readonly route?: { readonly methods: Readonly<Record<string, boolean>> };
  match(path: string): unknown;
}

interface ExpressApp {
  readonly router: { readonly stack: readonly RouterLayer[] };
}

/**
 * Which methods the API serves on a path, so that a known path asked with the wrong method gets
 * 405 with an Allow header instead of the router's 404.
 */
export class RouteCatalog {
  private readonly app: ExpressApp;

  /** Takes the Express app; its published types do not describe the router's `match`. */
  constructor(expressApp: unknown) {
    this.app = expressApp as ExpressApp;
  }

  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const layer of this.app.router.stack) {
      if (!layer.route || !layer.match(path)) continue;
      for (const method of Object.keys(layer.route.methods)) methods.add(method.toUpperCase());
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
