package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// tokenError is a refusal whose text is safe to show the client: short,
// fixed, never quoting the token. Every one also matches ErrInvalidToken
// under errors.Is.
type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

// Is makes every refusal an ErrInvalidToken too.
func (e *tokenError) Is(target error) bool { return target == ErrInvalidToken }

// Why a bearer token was refused. Each matches ErrInvalidToken as well
// (errors.Is), and its text is what the client sees after "Invalid
// credentials: ".
var (
	// ErrMalformedToken: not a well-formed JWS compact token, or claims of
	// the wrong JSON type.
	ErrMalformedToken error = &tokenError{"malformed token"}
	// ErrAlgNone: an unsigned token ("alg": "none").
	ErrAlgNone error = &tokenError{"unsigned token (alg none) refused"}
	// ErrAlgHMAC: an HMAC-signed token (HS256/384/512) where only public-key
	// signatures are trusted; the classic algorithm-confusion attack signs
	// with the issuer's public key as the HMAC secret.
	ErrAlgHMAC error = &tokenError{"HMAC-signed token refused"}
	// ErrAlgNotAllowed: a signature algorithm the issuer is not configured
	// for, or that does not match its key.
	ErrAlgNotAllowed error = &tokenError{"token signing algorithm not allowed"}
	// ErrUnknownIssuer: the iss claim names no trusted issuer.
	ErrUnknownIssuer error = &tokenError{"token issuer not trusted"}
	// ErrWrongAudience: the aud claim does not name this bridge.
	ErrWrongAudience error = &tokenError{"token audience not accepted"}
	// ErrTokenExpired: exp is past (beyond the allowed clock skew).
	ErrTokenExpired error = &tokenError{"token expired"}
	// ErrTokenNotYetValid: nbf or iat is in the future (beyond the skew).
	ErrTokenNotYetValid error = &tokenError{"token not yet valid"}
	// ErrUnknownKey: the kid names no key of the issuer (after the
	// rate-limited JWKS refresh, for external issuers).
	ErrUnknownKey error = &tokenError{"token signing key unknown"}
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature error = &tokenError{"token signature invalid"}
	// ErrMissingClaim: a required claim (exp, sub, …) is absent or empty.
	ErrMissingClaim error = &tokenError{"token lacks a required claim"}
	// ErrNotAccessToken: one of the bridge's own tokens whose typ header is
	// not at+jwt (RFC 9068).
	ErrNotAccessToken error = &tokenError{"token is not an access token"}
	// ErrNoBridgeScope: a valid token that grants none of scim.read,
	// scim.write and admin.
	ErrNoBridgeScope error = &tokenError{"token grants no bridge scope"}
	// ErrClientRevoked: one of the bridge's own tokens whose client was
	// removed from the configuration or lost a scope the token carries.
	ErrClientRevoked error = &tokenError{"client no longer authorized"}
	// ErrNetworkNotAllowed: a valid credential presented from an address
	// outside its networks. Its text is ErrInvalidToken's on purpose: the
	// caller learns nothing about the credential; the log says why.
	ErrNetworkNotAllowed error = &tokenError{ErrInvalidToken.Error()}
)

// mapJWTError turns a jwt/v5 error into one of the refusals above. Refusals
// raised inside a key function come through as they are.
func mapJWTError(err error) error {
	var te *tokenError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformedToken
	case errors.Is(err, jwt.ErrInvalidKeyType), errors.Is(err, jwt.ErrInvalidKey), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrUnknownIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrWrongAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrMissingClaim
	default: // ErrInvalidType and friends: a claim of the wrong JSON type
		return ErrMalformedToken
	}
}

// deniedFrom is ErrNetworkNotAllowed naming, for the log only, the
// credential that was used from outside its networks.
type deniedFrom struct{ credential string }

func (e *deniedFrom) Error() string { return ErrNetworkNotAllowed.Error() }

func (e *deniedFrom) Is(target error) bool {
	return target == ErrNetworkNotAllowed || target == ErrInvalidToken
}
