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

// PostgreSQL's codes for a NUL in text (character_not_in_repertoire) and
// in jsonb (untranslatable_character).
const (
	codeCharacterNotInRepertoire = "22021"
	codeUntranslatableCharacter  = "22P05"
)

// nulInput turns PostgreSQL's refusal of a NUL in a query's value (an id or
// a filter value a client sent) into EINVALID; other errors pass.
func nulInput(err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) && (e.Code == codeCharacterNotInRepertoire || e.Code == codeUntranslatableCharacter) {
		return store.Errorf(store.EINVALID, "a value holds a NUL character (U+0000), which is not allowed")
	}
	return err
}
