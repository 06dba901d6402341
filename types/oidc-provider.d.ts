/**
 * The slice of oidc-provider 9's API the test harness uses. The package ships no type declarations;
 * these cover only what `oidc-server.ts` calls.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type ClientMetadata = {
    client_id: string;
    client_secret?: string;
    redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    [key: string]: unknown;
  };

  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    status: number;
    body: unknown;
    oidc: {
      route?: string;
      params?: Record<string, unknown>;
      client: { clientId: string } & Record<string, unknown>;
      provider: Provider;
    };
  }

  export interface OidcModel {
    save(): Promise<string>;
    readonly expiration: number;
    [key: string]: unknown;
  }

  export interface GrantModel extends OidcModel {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
  }

  type ModelClass<T> = new (properties: Record<string, unknown>) => T;

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    readonly issuer: string;
    /** Koa's switch for its default error logging (the provider is the Koa app). */
    silent: boolean;
    readonly AccessToken: ModelClass<OidcModel>;
    readonly Grant: ModelClass<GrantModel>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    registerGrantType(
      name: string,
      handler: (ctx: KoaContextWithOIDC) => Promise<void>,
      params?: string | string[],
    ): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export const errors: {
    InvalidGrant: new (description?: string) => Error;
  };
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** oidc-provider's in-memory adapter over a caller-supplied store (get/set with maxAge/delete). */
  export default class MemoryAdapter {
    constructor(
      model: string,
      store?: {
        get(key: string): unknown;
        set(key: string, value: unknown, options?: { maxAge?: number }): void;
        delete(key: string): void;
      },
      clockTolerance?: number,
    );
  }
}
