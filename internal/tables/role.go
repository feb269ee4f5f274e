package tables

import (
	"slices"

	"github.com/freshgraph/freshgraph/internal/catalog"
)

// Admin is the role with every permission on every table.
const Admin = "admin"

// Permissions returns what role may do with t: everything for admin.
func (t *Table) Permissions(role string) *Permissions {
	if role == Admin {
		return t.admin()
	}
	if p := t.Roles[role]; p != nil {
		return p
	}
	return &Permissions{}
}

func (t *Table) admin() *Permissions {
	all := Columns{}
	for _, c := range t.Columns {
		all[c.Name] = true
	}
	p := &Permissions{Select: &SelectPermission{Columns: all, Filter: True, Aggregations: true}}
	// What PostgreSQL can write: a view may be read only, or in part.
	if t.Writes&catalog.WritesInsert != 0 {
		p.Insert = &InsertPermission{Columns: all, Check: True}
	}
	if t.Writes&catalog.WritesUpdate != 0 {
		p.Update = &UpdatePermission{Columns: all, Filter: True, Check: True}
	}
	if t.Writes&catalog.WritesDelete != 0 {
		p.Delete = &DeletePermission{Filter: True}
	}
	return p
}

// Selects reports whether role may read t's column col.
func (p *Permissions) Selects(col string) bool { return p.Select != nil && p.Select.Columns[col] }

// Updates reports whether role may set t's column col (not a preset).
func (p *Permissions) Updates(col string) bool {
	return p.Update != nil && p.Update.Columns[col] && !hasKey(p.Update.Set, col)
}

// Inserts reports whether role may give t's column col (not a preset).
func (p *Permissions) Inserts(col string) bool {
	return p.Insert != nil && p.Insert.Columns[col] && !hasKey(p.Insert.Set, col)
}

func hasKey(m map[string]Operand, k string) bool {
	_, ok := m[k]
	return ok
}

// View is what one role sees of the catalogue: its schema is made of it,
// and the engine checks each request against it.
type View struct {
	Role string
	Cat  *Catalogue
	// Session is set for the roles that have the session API: their users
	// type shows every column where they have no select permission of their
	// own on users, for the session's user is their own row.
	Session bool
	perms   map[*Table]*Permissions
}

// View returns role's view.
func (c *Catalogue) View(role string, session bool) *View {
	v := &View{Role: role, Cat: c, Session: session, perms: map[*Table]*Permissions{}}
	for _, t := range c.Tables {
		v.perms[t] = t.Permissions(role)
	}
	return v
}

// Of returns the role's permissions on t.
func (v *View) Of(t *Table) *Permissions { return v.perms[t] }

// Selectable reports whether the role reads t.
func (v *View) Selectable(t *Table) bool { return v.perms[t].Select != nil }

// WholeUserRow reports whether the role reads t only as the session API's
// user, its own row: whole (every column, no row filter), for want of a
// select permission on users of its own.
func (v *View) WholeUserRow(t *Table) bool {
	return v.Session && t == v.Cat.Users() && !v.Selectable(t)
}

// Columns are the columns of t the role reads, in introspection order.
func (v *View) Columns(t *Table) []Column {
	if v.WholeUserRow(t) {
		return t.SortedColumns()
	}
	var out []Column
	for _, c := range t.SortedColumns() {
		if v.perms[t].Selects(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// Relationships are the relationships of t the role follows: those whose
// target it reads.
func (v *View) Relationships(t *Table) []Relationship {
	if !v.Selectable(t) {
		return nil
	}
	var out []Relationship
	for _, r := range t.Relationships {
		if v.Selectable(r.Target) {
			out = append(out, r)
		}
	}
	return out
}

// HasRootField reports whether the role has the root field f in query_root
// or mutation_root.
func (v *View) HasRootField(f RootField) bool {
	return f.Kind != SelectStream && v.hasRootField(f, false)
}

// HasSubscriptionField reports whether the role has the root field f in
// subscription_root.
func (v *View) HasSubscriptionField(f RootField) bool {
	return f.Reads() && v.hasRootField(f, true)
}

func (v *View) hasRootField(f RootField, subscription bool) bool {
	if f.Function != nil {
		if !v.mayRun(f.Function) {
			return false
		}
		if f.Kind == FunctionAggregate {
			return v.perms[f.Table].Select.Aggregations
		}
		return true
	}
	p := v.perms[f.Table]
	if f.Reads() && p.Select != nil {
		only := p.Select.QueryRootFields
		if subscription {
			only = p.Select.SubscriptionRootFields
		}
		if only != nil && !only[f.Kind] {
			return false
		}
	}
	byPK := len(f.Table.PrimaryKey) > 0 && p.Select != nil &&
		!slices.ContainsFunc(f.Table.PrimaryKey, func(k string) bool { return !p.Selects(k) })
	switch f.Kind {
	case Select:
		return p.Select != nil
	case SelectStream:
		return p.Select != nil && len(v.Columns(f.Table)) > 0
	case SelectByPK:
		return byPK
	case SelectAggregate:
		return p.Select != nil && p.Select.Aggregations
	case Insert, InsertOne:
		return p.Insert != nil
	case Update, UpdateMany:
		return p.Update != nil
	case UpdateByPK:
		return p.Update != nil && byPK
	case Delete:
		return p.Delete != nil
	case DeleteByPK:
		return p.Delete != nil && byPK
	}
	return false
}

// RootField finds a root field the role has in query_root or mutation_root.
func (v *View) RootField(name string) (RootField, bool) {
	f, ok := v.Cat.RootField(name)
	if !ok || !v.HasRootField(f) {
		return RootField{}, false
	}
	return f, true
}

// SubscriptionField finds a root field the role has in subscription_root.
func (v *View) SubscriptionField(name string) (RootField, bool) {
	f, ok := v.Cat.RootField(name)
	if !ok || !v.HasSubscriptionField(f) {
		return RootField{}, false
	}
	return f, true
}

// Upserts reports whether the role's inserts into t take on_conflict: it
// needs the update permission too, and t a constraint.
func (v *View) Upserts(t *Table) bool {
	p := v.perms[t]
	return p.Insert != nil && p.Update != nil && len(t.Constraints) > 0
}
