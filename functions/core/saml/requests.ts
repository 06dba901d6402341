/**
 * Outstanding SP-initiated requests: every AuthnRequest ID `GET /saml/{integration}/login` sends is kept, single
 * use, for {@link SAML_REQUEST_TTL_SECONDS}. A response is solicited when its signed bearer confirmation names
 * one as `InResponseTo`; the ACS consumes it atomically, so a response is accepted for a request once, only at
 * the integration that sent it, and only while the request is fresh (SAML profiles 4.1.4.3: the SP must check
 * InResponseTo against its requests; node-saml's own cache is per process and not atomic).
 */

/** Ten minutes: an IdP login with MFA fits, a leaked request ID is soon useless. */
export const SAML_REQUEST_TTL_SECONDS = 600;

/** What the login remembers about the request it sent. */
export interface SamlRequestRecord {
  integration: string;
  /**
   * The allow-listed return URL when a frontend started the login (`return_to`): the ACS then parks the tokens
   * and sends the browser back there with a claim code instead of storing the connection itself.
   */
  returnTo?: string | undefined;
  /** Epoch seconds. */
  createdAt: number;
}

export interface SamlRequestStore {
  /** Stores `record` under `requestId` until `expiresAt` (epoch seconds). Throws if the ID already exists. */
  put(requestId: string, record: SamlRequestRecord, expiresAt: number): Promise<void>;
  /**
   * Atomically marks the request used and returns its record: of any number of concurrent consumers exactly
   * one gets it. Undefined when unknown, already used, expired at `now` (epoch seconds) or sent for another
   * integration (then it stays usable where it belongs).
   */
  consume(requestId: string, integration: string, now: number): Promise<SamlRequestRecord | undefined>;
}
