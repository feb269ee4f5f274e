package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/metadata"
)

// Role user's permissions come from the built-in metadata: its own users row,
// every column but no relationship to read, and its name and image to write.
func TestUserPermissionsComeFromTheBuiltInMetadata(t *testing.T) {
	none := map[string]bool{}
	want := map[string]tablePermission{
		"users": {
			selectRows: &rowPermission{
				columns:       map[string]bool{"id": true, "name": true, "email": true, "image": true, "emailVerified": true},
				relationships: none,
				ownRowOnly:    true,
			},
			updateRows: &rowPermission{columns: map[string]bool{"name": true, "image": true}, relationships: none, ownRowOnly: true},
		},
	}
	if !reflect.DeepEqual(userTables, want) {
		t.Errorf("got %+v\nwant %+v", userTables, want)
	}
}

// What the engine cannot serve yet is refused, not served otherwise.
func TestPermissionsTheEngineCannotServeAreRefused(t *testing.T) {
	users := func(p metadata.SelectPermission) *metadata.Metadata {
		return &metadata.Metadata{Tables: []metadata.Table{{Table: metadata.QualifiedTable{Schema: "public", Name: "users"},
			File: "public_users.yaml", SelectPermissions: []metadata.SelectPermission{p}}}}
	}
	limit := 3
	for name, md := range map[string]*metadata.Metadata{
		"another filter": users(func() metadata.SelectPermission {
			p := metadata.SelectPermission{Role: "user"}
			p.Permission.Filter = metadata.BoolExp{"email": map[string]any{"_eq": "X-Hasura-User-Id"}}
			return p
		}()),
		"a limit": users(func() metadata.SelectPermission {
			p := metadata.SelectPermission{Role: "user"}
			p.Permission.Limit = &limit
			return p
		}()),
	} {
		if _, err := rolePermissions(md, "user"); err == nil || !strings.HasPrefix(err.Error(), "public_users.yaml: role user: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
