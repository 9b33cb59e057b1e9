package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxTokenLen bounds the bearer tokens looked at; OTDS tokens carrying many
// roles stay far below it, and request headers are capped before anyway.
const maxTokenLen = 16 << 10

// looksLikeJWT reports whether tok has the JWS compact shape: three
// base64url segments, the first two non-empty (the signature may be empty,
// so that alg none is refused as such rather than as malformed).
func looksLikeJWT(tok string) bool {
	if len(tok) > maxTokenLen {
		return false
	}
	segs := 0
	segLen := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return false
			}
			segs++
			segLen = 0
			if segs > 2 {
				return false
			}
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			segLen++
		default:
			return false
		}
	}
	return segs == 2
}

// jwsHeader is what is read from a token before its signature is checked:
// enough to pick the issuer and refuse bad algorithms early. Nothing in it
// is trusted.
type jwsHeader struct {
	alg    string
	kid    string
	hasKid bool
	typ    string
	iss    string // the unverified iss claim
}

// peekJWT decodes a token's header and the iss claim without verifying
// anything. It fails with ErrMalformedToken.
func peekJWT(tok string) (jwsHeader, error) {
	var h jwsHeader
	if !looksLikeJWT(tok) {
		return h, ErrMalformedToken
	}
	parts := strings.SplitN(tok, ".", 3)
	var head map[string]any
	if !decodeSegment(parts[0], &head) || head == nil {
		return h, ErrMalformedToken
	}
	alg, ok := head["alg"].(string)
	if !ok || alg == "" {
		return h, ErrMalformedToken
	}
	h.alg = alg
	if v, present := head["kid"]; present {
		kid, ok := v.(string)
		if !ok {
			return h, ErrMalformedToken
		}
		h.kid, h.hasKid = kid, true
	}
	if v, present := head["typ"]; present {
		typ, ok := v.(string)
		if !ok {
			return h, ErrMalformedToken
		}
		h.typ = typ
	}
	// RFC 7515 §4.1.11: a recipient must refuse a token naming critical
	// extensions it does not understand; scimbridge understands none.
	if _, present := head["crit"]; present {
		return h, ErrMalformedToken
	}
	var claims map[string]json.RawMessage
	if !decodeSegment(parts[1], &claims) || claims == nil {
		return h, ErrMalformedToken
	}
	// RFC 7519 §2: the time claims are NumericDates, JSON numbers.
	for _, name := range []string{"exp", "nbf", "iat"} {
		if raw, present := claims[name]; present {
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil || strings.HasPrefix(strings.TrimSpace(string(raw)), `"`) {
				return h, ErrMalformedToken
			}
		}
	}
	if raw, present := claims["iss"]; present {
		if err := json.Unmarshal(raw, &h.iss); err != nil {
			return h, ErrMalformedToken
		}
	}
	return h, nil
}

func decodeSegment(seg string, v any) bool {
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// checkAlg refuses the algorithms never acceptable, then those not in
// allowed.
func checkAlg(alg string, allowed []string) error {
	switch {
	case strings.EqualFold(alg, "none"):
		return ErrAlgNone
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return ErrAlgHMAC
	}
	for _, a := range allowed {
		if a == alg {
			return nil
		}
	}
	return ErrAlgNotAllowed
}
