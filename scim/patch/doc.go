// Package patch applies SCIM PATCH requests (RFC 7644 §3.5.2) to a resource
// held as a JSON object: Decode reads a PatchOp message, Apply runs its
// operations in order against the document of a User or a Group.
//
// The engine follows the RFC where the identity providers that matter
// (Microsoft Entra ID, Okta) follow it, and bends where they do not; every
// bend is named where it is made:
//
//   - op names, attribute names and value keys are matched without regard
//     to case (Entra sends "Replace"; RFC 7643 §2.1 makes names
//     case-insensitive);
//   - a boolean may be sent as the string "true" or "false" in any case
//     (Entra sends "False");
//   - a complex attribute with a "value" sub-attribute accepts a bare
//     scalar as {"value": scalar} (Entra sends manager as a string);
//   - a path-less value may carry dotted, URN-prefixed and value-filter
//     keys ("name.givenName", "urn:…:User:employeeNumber",
//     `emails[type eq "work"].value`) as well as an extension URI whose
//     value is an object of that extension's attributes;
//   - add or replace through a value filter that matches nothing creates
//     the element when the filter is a conjunction of eq comparisons
//     (Entra's `emails[type eq "work"].value` on a user without a work
//     email); RFC 7644 §3.5.2.3 would answer noTarget;
//   - an "id" inside a path-less value that equals the resource's id is
//     ignored (Okta repeats it in every group rename);
//   - readOnly sub-attributes inside a value (members.display,
//     manager.displayName) are ignored, as RFC 7644 §3.5.1 ignores them on
//     PUT; naming a readOnly attribute in a path is a mutability error;
//   - a full replace of a multi-valued attribute keeps the immutable
//     sub-attributes (a member's "type") of the values it keeps, since
//     Okta's full member push sends only {"value", "display"};
//   - remove with a value on a multi-valued attribute removes only the
//     elements it names (Entra ID's member removal), matched by "value"
//     for members and by value and type otherwise;
//   - the elements of a multi-valued attribute are compared without
//     regard to order when deciding whether anything changed.
//
// Apply is atomic (RFC 7644 §3.5.2: "If a single operation encounters an
// error condition, the original target resource MUST be restored"): on
// error the document is left as it was. It never mutates a map or slice it
// found in the document; changed values are rebuilt, so the values it read
// first stay intact for the before/after comparison that yields the list
// of changed attributes.
package patch
