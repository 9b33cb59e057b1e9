-- users_manager indexes the enterprise extension's manager.value, so that
-- the reports of a user (store.Tx.ReportsOf) are an index lookup: when a
-- manager's email changes, or the manager leaves, their reports' HubSpot
-- manager property is planned again. The expression must stay identical to
-- the one in qReportsOf for SQLite to use the index.
CREATE INDEX users_manager ON users (
    json_extract(doc, '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"."manager"."value"'));
