// Package auth verifies the credentials SCIM clients present. This file set
// holds static bearer tokens from the configuration; each is kept as a
// SHA-256 hash and compared in constant time.
package auth
