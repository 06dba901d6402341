/**
 * The one shape every grant produces, whatever the vendor's response looked like.
 * Times are epoch seconds. Tokens are opaque strings: never log a TokenSet.
 */
export interface TokenSet {
  accessToken: string;
  /** Normalised: `Bearer`, `Basic`, or the vendor's own scheme. */
  tokenType: string;
  /** When the access token expires; undefined means the vendor gave no expiry (static credentials). */
  expiresAt?: number | undefined;
  refreshToken?: string | undefined;
  /** When the refresh token expires (absolute, from `refresh_token_expires_in` or the template's default). */
  refreshExpiresAt?: number | undefined;
  scopes?: string[] | undefined;
  /** Vendor-side user id, when the response or the userinfo endpoint names it. */
  subject?: string | undefined;
  idToken?: string | undefined;
  /**
   * Non-secret values the template keeps (`response.metadata`, `authorize.callbackParams`): the vendor's API
   * base for this user (Salesforce `instance_url`), a data centre. Checked against the template's patterns.
   */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** When the vendor issued the set (our clock). */
  issuedAt: number;
}
