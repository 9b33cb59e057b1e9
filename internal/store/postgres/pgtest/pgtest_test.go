package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

var pg Harness

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// Each test gets its own database, and the server answers on it.
func TestDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := pg.Database(t), pg.Database(t)
	if a == b {
		t.Fatalf("two tests share database %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE x (n int)"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&name); err != nil || name != "postgres" {
		t.Fatalf("current_user = %q, %v", name, err)
	}
}
