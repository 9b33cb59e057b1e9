// Package sqlite is the SQLite driver of the store: one database file in WAL
// mode, written by a single goroutine that commits concurrent Update calls
// together (group commit), read by a small pool of query-only connections.
//
// Layout by concern:
//
//   - open.go: Config, Open, Close, Ping and the connection settings.
//   - migrate.go, migrations/: the embedded, numbered schema migrations.
//   - writer.go: the writer goroutine, group commit and the store.Tx.
//   - reader.go: the read connections and their prepared statements.
//   - stmts.go: the SQL of the hot paths, prepared once per connection.
//   - users.go, groups.go, audit.go: reading and writing each resource;
//     provisioning.go: the provisioning engine's rows (migration 0002).
//   - scan.go: the full scans of the directory reconcile (keyset pages,
//     read one page ahead of the caller); runs.go: its runs and named
//     state (migration 0004).
//   - dialect.go: how the shared SCIM filter and sortBy compiler
//     (internal/store/sqlfilter, RFC 7644 §3.4.2.2-3) writes SQLite SQL.
//   - query.go: list requests: paging (§3.4.2.4), totals, the page cursor
//     cache.
//   - funcs.go: the SQL functions the compiled filters call.
//
// Resource documents are kept as JSON in a doc column; the attributes
// identity providers filter on (userName, externalId, id, displayName,
// emails, members, meta.lastModified) also live in indexed columns or side
// tables so that those filters never scan the table. A user's groups
// attribute is also kept, denormalised, in its row (users.groups_json,
// migration 0003) so that pages of users are read without a join; the
// writes that change memberships or group names maintain it. The enterprise
// manager.value has an expression index (migration 0005) for a manager's
// reports (store.Tx.ReportsOf). Each user and
// group row also keeps its origin (schemas.OriginSCIM or OriginDirectory),
// which is not a SCIM attribute and not in the document.
package sqlite
