// Package config loads scimbridge's YAML configuration, applies
// SCIMBRIDGE_… environment overrides (with _FILE variants for secrets),
// fills defaults and validates everything at once, so an operator sees
// every problem in one run of `scimbridge config check`.
package config
