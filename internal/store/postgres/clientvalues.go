package postgres

import (
	"bytes"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimbridge/scimbridge/internal/store"
)

// PostgreSQL keeps no NUL character (U+0000) in text or in jsonb strings,
// where SQLite keeps any. A resource holding one is refused as invalid
// input (a SCIM 400) instead of failing in the database.

// refuseNUL returns an EINVALID error when the JSON document doc holds an
// escaped NUL (\u0000 not itself escaped).
func refuseNUL(doc []byte, what string) error {
	esc := []byte(`\u0000`)
	for i := 0; ; {
		j := bytes.Index(doc[i:], esc)
		if j < 0 {
			return nil
		}
		j += i
		n := 0 // backslashes before it: an odd count makes it text
		for k := j - 1; k >= 0 && doc[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return store.Errorf(store.EINVALID, "the %s holds a NUL character (U+0000), which is not allowed", what)
		}
		i = j + 1
	}
}

// refuseNULText is refuseNUL for values kept in text columns of their own.
func refuseNULText(what string, values ...string) error {
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return store.Errorf(store.EINVALID, "the %s holds a NUL character (U+0000), which is not allowed", what)
		}
	}
	return nil
}

// PostgreSQL's codes for a NUL in text (character_not_in_repertoire), in
// jsonb (untranslatable_character), and for a value too long for a B-tree
// index entry (program_limit_exceeded: about 2,700 bytes).
const (
	codeCharacterNotInRepertoire = "22021"
	codeUntranslatableCharacter  = "22P05"
	codeProgramLimitExceeded     = "54000"
)

// clientValueError turns PostgreSQL's refusal of a client's value into EINVALID: a
// NUL in a value written or looked up (an id, a filter value), or an
// indexed value (userName, externalId, displayName, an email) too long to
// index. Other errors pass.
func clientValueError(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case codeCharacterNotInRepertoire, codeUntranslatableCharacter:
		return store.Errorf(store.EINVALID, "a value holds a NUL character (U+0000), which is not allowed")
	case codeProgramLimitExceeded:
		return store.Errorf(store.EINVALID, "a value is too long: an attribute the store looks resources up by (userName, externalId, displayName, an email) takes at most about 2,000 characters")
	}
	return err
}
