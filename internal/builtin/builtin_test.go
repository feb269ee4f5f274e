package builtin_test

import (
	"os"
	"slices"
	"testing"

	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The built-in metadata fits freshgraph's own migrations and makes the
// Auth.js tables @auth/hasura-adapter expects: their enum, relationships
// and role user's own-row permissions.
func TestBuiltInMetadataMakesTheAuthJSTables(t *testing.T) {
	c := tablestest.Builtin(t)
	var names []string
	for _, tb := range c.Tables {
		names = append(names, tb.Name)
	}
	slices.Sort(names)
	if want := []string{"accounts", "provider_type", "sessions", "users", "verification_tokens"}; !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	accounts, _ := c.ByName("accounts")
	typ, _ := accounts.Column("type")
	if typ.Type.GraphQL != "provider_type_enum" || !slices.Equal(typ.Type.Enum, []string{"credentials", "email", "oauth", "oidc"}) {
		t.Errorf("accounts.type is %+v", typ.Type)
	}
	users := c.Users()
	if users == nil || len(users.Relationships) != 2 {
		t.Fatalf("users: %+v", users)
	}
	if p := users.Permissions("user"); p.Select == nil || p.Update == nil || !p.Updates("name") || p.Updates("email") || p.Insert != nil || p.Delete != nil {
		t.Errorf("role user on users: %+v", p)
	}
	if !slices.Equal(c.Roles, []string{"user"}) {
		t.Errorf("roles %v", c.Roles)
	}
	if _, ok := c.View("user", true).RootField("users_by_pk"); !ok {
		t.Error("role user lacks users_by_pk")
	}
	if _, ok := c.View("user", true).RootField("accounts"); ok {
		t.Error("role user has accounts")
	}
}
