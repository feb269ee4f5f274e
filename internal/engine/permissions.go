package engine

import (
	"strings"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// filter writes a row filter over the table row called alias.
type filter func(b *sqlbuild.Builder, alias string)

// tablePermission is what a role may do with one table, as Hasura's
// select/update/insert/delete permissions say. A nil part is not allowed.
type tablePermission struct {
	selectRows   *rowPermission
	updateRows   *rowPermission
	insert       bool
	delete       bool
	aggregations bool
}

// rowPermission lists the columns and relationships a role may use and
// whether it may touch only the caller's own row (else every row).
type rowPermission struct {
	columns       map[string]bool
	relationships map[string]bool
	ownRowOnly    bool
}

// column and relationship are false on a nil permission: nothing is allowed.
func (p *rowPermission) column(name string) bool {
	return p != nil && (p.columns == nil || p.columns[name])
}

func (p *rowPermission) relationship(name string) bool {
	return p != nil && (p.relationships == nil || p.relationships[name])
}

// permissions are a caller's permissions on every table.
type permissions struct {
	role   auth.Role
	tables map[string]tablePermission
	// own writes "this is the caller's own users row", for ownRowOnly.
	own filter
	// err is reported when a permission needs a session variable the caller
	// lacks (e.g. role user posed by the admin without X-Hasura-User-Id).
	err error
}

func (p *permissions) table(name string) tablePermission { return p.tables[name] }

// adminPermissions allow everything; nil maps mean "all".
var adminPermissions = func() map[string]tablePermission {
	m := map[string]tablePermission{}
	all := &rowPermission{}
	for _, t := range tables.All {
		m[t.Name] = tablePermission{selectRows: all, updateRows: all, insert: true, delete: true, aggregations: true}
	}
	return m
}()

// permissionsFor returns the caller's permissions:
//   - admin: everything;
//   - user: their own users row, all its columns but no relationships, and an
//     update of its name and image (Hasura: select filter and update filter
//     {id: {_eq: X-Hasura-User-Id}}, update columns [name, image]);
//   - anyone else: no table at all.
func permissionsFor(c auth.Caller) *permissions {
	switch c.Role {
	case auth.RoleAdmin:
		return &permissions{role: c.Role, tables: adminPermissions}
	case auth.RoleUser:
		own, err := ownRow(c)
		return &permissions{role: c.Role, err: err, tables: userTables, own: own}
	}
	return &permissions{role: c.Role, tables: map[string]tablePermission{}}
}

// filterRows ANDs the caller's row filter for perm, if it has one.
func (p *permissions) filterRows(b *sqlbuild.Builder, perm *rowPermission, alias string) {
	if perm.ownRowOnly && p.own != nil {
		b.S(" AND ")
		p.own(b, alias)
	}
}

// ownRow is the filter "the users row of the caller": by X-Hasura-User-Id when
// a token or header names the user, else through the live session of the
// cookie, inside the same statement.
func ownRow(c auth.Caller) (filter, error) {
	if c.UserID == "" && c.SessionToken == "" {
		return func(b *sqlbuild.Builder, _ string) { b.S("false") },
			&hasura.Error{Code: hasura.CodeNotFound, Message: `missing session variables: "x-hasura-user-id"`}
	}
	return authjs.Owner{SessionToken: c.SessionToken, UserID: c.UserID}.Filter, nil
}

// Allowed reports whether the caller's role has the generated root field name
// in its schema: a field it may not use does not exist for it, as in Hasura.
func Allowed(c auth.Caller, name string) bool {
	f, ok := tables.LookupRootField(name)
	if !ok {
		return false
	}
	p := permissionsFor(c).table(f.Table.Name)
	switch f.Kind {
	case tables.Select, tables.SelectByPK:
		return p.selectRows != nil
	case tables.SelectAggregate:
		return p.selectRows != nil && p.aggregations
	case tables.Insert, tables.InsertOne:
		return p.insert
	case tables.Update, tables.UpdateByPK, tables.UpdateMany:
		return p.updateRows != nil
	case tables.Delete, tables.DeleteByPK:
		return p.delete
	}
	return false
}

// FieldVisible reports whether the caller's role sees field of the object
// type typeName in its schema: the columns and relationships its select
// permission has. A role's own users row shows through the session API, so
// every role sees the users columns there. Types that are not tables are
// not the engine's to hide.
func FieldVisible(c auth.Caller, typeName, field string) bool {
	if c.Role == auth.RoleAdmin {
		return true
	}
	t, ok := tables.ByName(typeName)
	if !ok {
		return true
	}
	perm := permissionsFor(c).table(t.Name).selectRows
	if perm == nil && t.Name == "users" {
		perm = ownRowPermissions.table("users").selectRows
	}
	if _, isColumn := t.Column(field); isColumn {
		return perm.column(field)
	}
	return perm.relationship(strings.TrimSuffix(field, "_aggregate"))
}

// inputKinds map an input type's suffix to the permission its fields follow.
var inputKinds = []struct{ suffix, kind string }{
	{"_bool_exp", "select"}, {"_order_by", "select"}, {"_select_column", "select"},
	{"_set_input", "update"}, {"_inc_input", "update"}, {"_update_column", "update"},
	{"_insert_input", "insert"},
}

// InputFieldVisible reports whether the caller's role sees field of the
// input type (or enum value of the enum) typeName: a where or order_by
// offers the columns and relationships its select permission has, _set and
// the update columns those its update permission has, as in Hasura, where
// each role's input types are its own.
func InputFieldVisible(c auth.Caller, typeName, field string) bool {
	if c.Role == auth.RoleAdmin {
		return true
	}
	for _, k := range inputKinds {
		name, ok := strings.CutSuffix(typeName, k.suffix)
		if !ok {
			continue
		}
		t, ok := tables.ByName(name)
		if !ok {
			return true
		}
		p := permissionsFor(c).table(t.Name)
		switch k.kind {
		case "insert":
			return p.insert
		case "update":
			return p.updateRows.column(field)
		}
		perm := p.selectRows
		if perm == nil && t.Name == "users" {
			perm = ownRowPermissions.table("users").selectRows
		}
		switch field {
		case "_and", "_or", "_not":
			return perm != nil
		}
		if _, isColumn := t.Column(field); isColumn {
			return perm.column(field)
		}
		return perm.relationship(strings.TrimSuffix(field, "_aggregate"))
	}
	return true
}
