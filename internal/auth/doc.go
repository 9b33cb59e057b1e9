// Package auth verifies the credentials SCIM clients present, and issues
// some of them.
//
//   - StaticTokens: bearer tokens from the configuration, each kept as a
//     SHA-256 hash and compared in constant time.
//   - Issuer: the bridge's own OAuth2 authorization server for the
//     client-credentials grant (RFC 6749 §4.4) at POST /oauth/token, with
//     its public keys at GET /oauth/jwks. It issues JWT access tokens
//     (RFC 9068, ES256 or RS256) and verifies them: an OTDS SCIM push
//     connector needs only the token URL, a client id and a secret.
//   - Trusted: JWT access tokens of external issuers such as OTDS,
//     verified against their JWKS (fetched, cached, refetched on an
//     unknown kid at most once per interval) with per-issuer audience,
//     algorithms and scope mapping.
//   - Chain: the HTTP front's Authenticator over all three.
//
// Every refusal is one of the Err* values (each also matching
// ErrInvalidToken); their texts are short and never quote the token, as
// the front shows them to the client. Secrets and tokens are never
// logged.
package auth
