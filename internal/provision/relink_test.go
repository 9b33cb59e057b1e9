package provision_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// TestRelink moves a SCIM-pushed user onto its directory entry through the
// write path, and refuses, changing nothing, when the review it acts on is
// out of date.
func TestRelink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sam := e.createUser("sam", "sam@example.com", "Sam", "Rivera")
	if _, err := e.patchUser(sam.ID, func(u *schemas.User) { u.ExternalID = "scim-7" }); err != nil {
		t.Fatal(err)
	}
	other := e.createUser("kim", "kim@example.com", "Kim", "Lee")
	if _, err := e.patchUser(other.ID, func(u *schemas.User) { u.ExternalID = "uid=kim" }); err != nil {
		t.Fatal(err)
	}
	actor := schemas.Actor{Name: "access-review"}

	// Out of date: another user holds the target, or the source changed.
	if err := e.svc.Relink(ctx, actor, sam.ID, "scim-7", "uid=kim"); errorCode(err) != schemas.ECONFLICT || !strings.Contains(err.Error(), other.ID) {
		t.Fatalf("target held by another user: %v", err)
	}
	if err := e.svc.Relink(ctx, actor, sam.ID, "scim-6", "uid=sam"); errorCode(err) != schemas.EPRECONDITION || !strings.Contains(err.Error(), `"scim-7"`) {
		t.Fatalf("source changed: %v", err)
	}
	if err := e.svc.Relink(ctx, actor, "no-such-user", "", "uid=nobody"); errorCode(err) != schemas.ENOTFOUND {
		t.Fatalf("no such user: %v", err)
	}
	u, err := e.st.GetUser(ctx, sam.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.ExternalID != "scim-7" || u.Origin != schemas.OriginSCIM {
		t.Fatalf("a refused relink changed the user: %q %q", u.ExternalID, u.Origin)
	}

	if err := e.svc.Relink(ctx, actor, sam.ID, "scim-7", "uid=sam"); err != nil {
		t.Fatal(err)
	}
	if u, err = e.st.GetUser(ctx, sam.ID, false); err != nil {
		t.Fatal(err)
	}
	if u.ExternalID != "uid=sam" || u.Origin != schemas.OriginDirectory {
		t.Fatalf("relinked: %q %q", u.ExternalID, u.Origin)
	}
	recs, err := e.st.Audit(ctx, store.AuditQuery{ResourceID: sam.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Actor != "access-review" || last.Action != "patch" || strings.Join(last.Changed, ",") != "externalId,origin" {
		t.Fatalf("audit: %+v", last)
	}
	// Relinking to the id it holds already is no conflict with itself.
	if err := e.svc.Relink(ctx, actor, sam.ID, "uid=sam", "uid=sam"); err != nil {
		t.Fatalf("relink to itself: %v", err)
	}
	// The user stays provisioned in HubSpot.
	e.eventually("sam in HubSpot", func() error {
		if h := e.hub("sam@example.com"); h == nil {
			return errors.New("not there")
		}
		return nil
	})
}
