-- runs: one row per reconcile run (store.Run), inserted when the run starts
-- and updated when it ends. AUTOINCREMENT so an id is never reused and the
-- newest run is the highest id. Times are unix microseconds (UTC), 0 for a
-- zero time (finished: still running); counts is a JSON object or NULL.
CREATE TABLE runs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT    NOT NULL,
    started  INTEGER NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    outcome  TEXT    NOT NULL,
    counts   TEXT,
    error    TEXT,
    forced   INTEGER NOT NULL DEFAULT 0
);

-- state: small named values the bridge keeps between runs (store.Tx.SetState),
-- such as the directory's high-water mark.
CREATE TABLE state (
    key     TEXT    PRIMARY KEY,
    value   TEXT    NOT NULL,
    updated INTEGER NOT NULL
) WITHOUT ROWID;
