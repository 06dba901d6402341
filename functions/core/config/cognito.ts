/** Cognito user pool issuers, shared by the config schema (synth) and the caller verifier (request path). */

/** `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, the pool id starting with its region. */
export const cognitoIssuerPattern =
  /^https:\/\/cognito-idp\.((?:eusc-[a-z]{2}|[a-z]{2})-(?:gov-)?[a-z]+-\d)\.amazonaws\.com\/(\1_[a-zA-Z0-9]+)$/;
