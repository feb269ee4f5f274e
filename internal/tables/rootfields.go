package tables

// Kind is what a generated root field does.
type Kind int

// The root fields Hasura generates per table.
const (
	Select Kind = iota
	SelectByPK
	SelectAggregate
	Insert
	InsertOne
	Update
	UpdateByPK
	UpdateMany
	Delete
	DeleteByPK
)

// RootField is a generated root field: e.g. users_by_pk is {SelectByPK, users}.
type RootField struct {
	Name  string
	Kind  Kind
	Table *Table
}

// Mutation reports whether the field belongs to mutation_root.
func (f RootField) Mutation() bool { return f.Kind >= Insert }

// rootFields indexes every generated root field by name.
var rootFields = func() map[string]RootField {
	m := map[string]RootField{}
	for _, t := range All {
		for kind, name := range map[Kind]string{
			Select:          t.Name,
			SelectByPK:      t.Name + "_by_pk",
			SelectAggregate: t.Name + "_aggregate",
			Insert:          "insert_" + t.Name,
			InsertOne:       "insert_" + t.Name + "_one",
			Update:          "update_" + t.Name,
			UpdateByPK:      "update_" + t.Name + "_by_pk",
			UpdateMany:      "update_" + t.Name + "_many",
			Delete:          "delete_" + t.Name,
			DeleteByPK:      "delete_" + t.Name + "_by_pk",
		} {
			m[name] = RootField{Name: name, Kind: kind, Table: t}
		}
	}
	return m
}()

// LookupRootField finds the generated root field called name.
func LookupRootField(name string) (RootField, bool) {
	f, ok := rootFields[name]
	return f, ok
}
