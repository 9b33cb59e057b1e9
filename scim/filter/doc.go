// Package filter parses, checks and evaluates SCIM filters (RFC 7644
// §3.4.2.2) and PATCH paths (§3.5.2).
//
// Parse is a hand-written recursive-descent parser producing the AST of
// github.com/scim2/filter-parser/v2 (the parser github.com/elimity-com/scim
// uses), so the rest of the bridge and the library speak one AST. It exists
// because that parser costs about 140 µs and 2,000 allocations for
// `userName eq "x"`, the query every IdP sends before every write, and does
// not unescape string values; this one takes a few hundred nanoseconds and
// decodes strings as JSON. A differential fuzz test keeps the two in step.
//
// It also accepts one widespread non-RFC form: Microsoft Entra ID's
// `emails[type eq "work"].value eq "x"`, read as
// `emails[type eq "work" and value eq "x"]`.
package filter
