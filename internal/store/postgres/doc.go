// Package postgres is the PostgreSQL driver of the store, on pgx and its
// pool, for several bridge replicas sharing one database.
//
// Each Update is one SERIALIZABLE transaction, so fn's reads through tx
// hold until it commits, as under the SQLite driver's single writer;
// uniqueness is held by unique indexes, and a transaction that loses a
// serialization conflict or a deadlock is run again (fn must therefore be
// safe to call more than once, as store.Tx already asks: it touches the
// database only through tx). List requests read their page, total and related rows in one
// REPEATABLE READ, read-only transaction.
//
// Layout by concern, as in the SQLite driver:
//
//   - open.go: Config, Open, Close, Ping; migrate.go, migrations/: the
//     embedded, numbered schema migrations.
//   - update.go: Update, the store.Tx and its retries; errors.go: mapping
//     PostgreSQL errors to the store's codes.
//   - stmts.go: the SQL of the hot paths.
//   - users.go, groups.go, audit.go, provisioning.go, runs.go, names.go:
//     reading and writing each resource; scan.go: the keyset scans.
//   - dialect.go: how the shared SCIM filter and sortBy compiler
//     (internal/store/sqlfilter, RFC 7644 §3.4.2.2-3) writes PostgreSQL
//     SQL; query.go: list requests and paging (§3.4.2.4).
//
// Resource documents are jsonb; the attributes identity providers filter
// on (userName, externalId, id, displayName, emails, members,
// meta.lastModified) also live in indexed columns or side tables. Keys for
// case-insensitive comparison are computed in Go (schemas.Fold,
// schemas.UsernameFold) and stored beside the values, so the PRECIS
// userName key and the folded names are plain B-tree lookups.
package postgres
