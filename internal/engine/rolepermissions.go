package engine

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/freshgraph/freshgraph/internal/builtin"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// userTables are role user's permissions, read from the built-in metadata
// (internal/builtin): the same for every caller, so built once.
var userTables = func() map[string]tablePermission {
	md, err := builtin.Metadata()
	if err != nil {
		panic(err) // embedded, and tested: cannot happen in a build that passed its tests
	}
	perms, err := rolePermissions(md, "user")
	if err != nil {
		panic(err)
	}
	return perms
}()

// ownRowFilter is the one row filter the engine compiles so far: the
// caller's own users row.
var ownRowFilter = metadata.BoolExp{"id": map[string]any{"_eq": "X-Hasura-User-Id"}}

// rolePermissions turns role's Hasura permissions in md into the engine's.
// The engine serves a part of what Hasura's permissions can say — all rows or
// the caller's own users row, no presets, no limits, no inserts or deletes
// for roles other than admin — and refuses the rest rather than serve it
// differently.
func rolePermissions(md *metadata.Metadata, role string) (map[string]tablePermission, error) {
	selectable := map[string]bool{}
	for _, t := range md.Tables {
		for _, p := range t.SelectPermissions {
			if p.Role == role {
				selectable[t.Table.Name] = true
			}
		}
	}
	rows := func(t *metadata.Table, c metadata.Columns, filter metadata.BoolExp) (*rowPermission, error) {
		p := &rowPermission{relationships: map[string]bool{}}
		if !c.All {
			p.columns = map[string]bool{}
			for _, name := range c.Names {
				p.columns[name] = true
			}
		}
		// A relationship shows where its target may be read.
		for _, r := range slices.Concat(t.ObjectRelationships, t.ArrayRelationships) {
			if target, ok := tableRelationship(t.Table.Name, r.Name); ok && selectable[target] {
				p.relationships[r.Name] = true
			}
		}
		switch {
		case len(filter) == 0:
		case t.Table.Name == "users" && reflect.DeepEqual(filter, ownRowFilter):
			p.ownRowOnly = true
		default:
			return nil, fmt.Errorf("%s: role %s: the engine compiles no filter but {} and users' {id: {_eq: X-Hasura-User-Id}} yet", t.File, role)
		}
		return p, nil
	}
	perms := map[string]tablePermission{}
	for i := range md.Tables {
		t := &md.Tables[i]
		var tp tablePermission
		for _, p := range t.SelectPermissions {
			if p.Role != role {
				continue
			}
			if p.Permission.Limit != nil {
				return nil, fmt.Errorf("%s: role %s: select limits are not served yet", t.File, role)
			}
			var err error
			if tp.selectRows, err = rows(t, p.Permission.Columns, p.Permission.Filter); err != nil {
				return nil, err
			}
			tp.aggregations = p.Permission.AllowAggregations
		}
		for _, p := range t.UpdatePermissions {
			if p.Role != role {
				continue
			}
			if len(p.Permission.Set) > 0 || (len(p.Permission.Check) > 0 && !reflect.DeepEqual(p.Permission.Check, p.Permission.Filter)) {
				return nil, fmt.Errorf("%s: role %s: update presets and checks other than the filter are not served yet", t.File, role)
			}
			var err error
			if tp.updateRows, err = rows(t, p.Permission.Columns, p.Permission.Filter); err != nil {
				return nil, err
			}
		}
		if slices.ContainsFunc(t.InsertPermissions, func(p metadata.InsertPermission) bool { return p.Role == role }) ||
			slices.ContainsFunc(t.DeletePermissions, func(p metadata.DeletePermission) bool { return p.Role == role }) {
			return nil, fmt.Errorf("%s: role %s: insert and delete permissions are served for admin only yet", t.File, role)
		}
		if tp.selectRows != nil || tp.updateRows != nil {
			perms[t.Table.Name] = tp
		}
	}
	return perms, nil
}

// tableRelationship is the target of relationship rel of table in the
// engine's catalogue, which a test holds to the built-in metadata.
func tableRelationship(table, rel string) (string, bool) {
	t, ok := tables.ByName(table)
	if !ok {
		return "", false
	}
	r, ok := t.Relationship(rel)
	return r.Target, ok
}
