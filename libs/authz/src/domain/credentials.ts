/** What a request presented to prove who it is. Never logged. */
export type Credentials =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export const ANONYMOUS: Credentials = { kind: 'anonymous' };
