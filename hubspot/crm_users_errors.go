package hubspot

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// PropertyError is one property HubSpot refused in a CRM write.
type PropertyError struct {
	Name    string // the property's internal name
	Code    string // CodePropertyDoesntExist, CodeReadOnlyValue, CodeInvalidOption…
	Message string
}

// PropertyErrors lists the properties a 400 from a CRM object write names.
//
// HubSpot's CRM objects answer an invalid write with category
// VALIDATION_ERROR and the details as a JSON array inside message:
//
//	"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"x\\\" does not exist\",
//	 \"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"x\",\"localizedErrorMessage\":…}]"
//
// The OpenAPI Error schema also allows errors[] entries with a code and a
// context; entries whose context names a propertyName are read too, and
// as a last resort messages of the form `Property "x" does not exist`.
// Nil when err carries none.
func PropertyErrors(err error) []PropertyError {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest {
		return nil
	}
	var out []PropertyError
	add := func(p PropertyError) {
		if p.Name == "" || slices.ContainsFunc(out, func(q PropertyError) bool { return q.Name == p.Name && q.Code == p.Code }) {
			return
		}
		out = append(out, p)
	}
	for _, p := range embeddedPropertyErrors(e.Message) {
		add(p)
	}
	for _, d := range e.Errors {
		for _, key := range []string{"propertyName", "propertyNames", "name"} {
			for _, n := range d.Context[key] {
				add(PropertyError{Name: n, Code: d.Code, Message: d.Message})
			}
		}
		for _, p := range embeddedPropertyErrors(d.Message) {
			add(p)
		}
	}
	if len(out) == 0 {
		msgs := []string{e.Message}
		for _, d := range e.Errors {
			msgs = append(msgs, d.Message)
		}
		for _, m := range msgs {
			for _, n := range quotedBefore(m, `Property "`, `" does not exist`) {
				add(PropertyError{Name: n, Code: CodePropertyDoesntExist, Message: m})
			}
		}
	}
	return out
}

// UnknownProperties names the properties a CRM write was refused for
// because the object does not have them (PROPERTY_DOESNT_EXIST): the
// portal lacks them until someone creates them. Nil when there are none.
func UnknownProperties(err error) []string { return propertyNames(err, CodePropertyDoesntExist) }

// ReadOnlyProperties names the properties a CRM write was refused for
// because their values are read-only (READ_ONLY_VALUE).
func ReadOnlyProperties(err error) []string { return propertyNames(err, CodeReadOnlyValue) }

func propertyNames(err error, code string) []string {
	var names []string
	for _, p := range PropertyErrors(err) {
		if p.Code == code && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	return names
}

// embeddedPropertyErrors reads the JSON array HubSpot puts after "Property
// values were not valid: " (or any prefix) in a message.
func embeddedPropertyErrors(msg string) []PropertyError {
	i, j := strings.IndexByte(msg, '['), strings.LastIndexByte(msg, ']')
	if i < 0 || j < i {
		return nil
	}
	var entries []struct {
		Name    string `json:"name"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(msg[i:j+1]), &entries) != nil {
		return nil
	}
	out := make([]PropertyError, 0, len(entries))
	for _, en := range entries {
		out = append(out, PropertyError{Name: en.Name, Code: en.Error, Message: en.Message})
	}
	return out
}

// quotedBefore returns each s between prefix and suffix in msg.
func quotedBefore(msg, prefix, suffix string) []string {
	var out []string
	for {
		i := strings.Index(msg, prefix)
		if i < 0 {
			return out
		}
		msg = msg[i+len(prefix):]
		j := strings.Index(msg, suffix)
		if j < 0 {
			return out
		}
		if k := strings.IndexByte(msg[:j], '"'); k < 0 {
			out = append(out, msg[:j])
		}
		msg = msg[j+len(suffix):]
	}
}
