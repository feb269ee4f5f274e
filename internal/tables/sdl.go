package tables

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// WriteSDL returns the part of role's schema that Hasura generates: the
// root types, and for each table the role may use its object, aggregate
// and mutation-response types, its input types and enums, and its root
// fields, with Hasura's names, argument lists and nullability, each showing
// only the columns, relationships and root fields the role's permissions
// allow. Types no root field reaches are left in; the caller prunes them.
func WriteSDL(v *View) string {
	p := &printer{v: v, types: map[string]bool{}}
	p.shared()
	for _, t := range v.Cat.Tables {
		p.table(t)
	}
	for _, f := range v.Cat.Functions {
		p.functionArgs(f)
	}
	p.roots()
	return p.String()
}

type printer struct {
	strings.Builder
	v *View
	// types are the input types and enums written with at least one field.
	types map[string]bool
}

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p, format, args...)
	p.WriteByte('\n')
}

func (p *printer) description(text string) {
	if text == "" {
		return
	}
	p.line("%s", blockString(text, ""))
}

// blockString is text as a GraphQL block string, indented.
func blockString(text, indent string) string {
	text = strings.ReplaceAll(text, `"""`, `\"""`)
	return indent + `"""` + "\n" + indent + strings.ReplaceAll(text, "\n", "\n"+indent) + "\n" + indent + `"""`
}

// block writes kind name { fields } with the fields sorted by name, and
// remembers the type; a type without fields is not written.
func (p *printer) block(desc, kind, name string, fields map[string]string) {
	if len(fields) == 0 {
		return
	}
	p.description(desc)
	p.line("%s %s {", kind, name)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		p.line("%s", fields[k])
	}
	p.line("}")
	p.line("")
	p.types[name] = true
}

func (p *printer) shared() {
	p.line("schema {\n  query: query_root\n  mutation: mutation_root\n  subscription: subscription_root\n}\n")
	p.block("ordering argument of a cursor", "enum", "cursor_ordering", map[string]string{
		"ASC":  `  """ascending ordering of the cursor"""` + "\n  ASC",
		"DESC": `  """descending ordering of the cursor"""` + "\n  DESC",
	})
	p.block("column ordering options", "enum", "order_by", map[string]string{
		"asc":              `  """in ascending order, nulls last"""` + "\n  asc",
		"asc_nulls_first":  `  """in ascending order, nulls first"""` + "\n  asc_nulls_first",
		"asc_nulls_last":   `  """in ascending order, nulls last"""` + "\n  asc_nulls_last",
		"desc":             `  """in descending order, nulls first"""` + "\n  desc",
		"desc_nulls_first": `  """in descending order, nulls first"""` + "\n  desc_nulls_first",
		"desc_nulls_last":  `  """in descending order, nulls last"""` + "\n  desc_nulls_last",
	})
	// Every scalar and enum of the catalogue (an array's element's too),
	// and timestamptz, which the session API's expires has; the
	// comparison_exp of each, and of each array type.
	scalars, comparisons := map[string]bool{}, map[string]bool{}
	types := []Type{Int, Timestamptz}
	for _, t := range p.v.Cat.Tables {
		for _, c := range t.SortedColumns() {
			types = append(types, c.Type)
		}
	}
	for _, f := range p.v.Cat.Functions {
		for _, a := range f.Args.Inputs() {
			types = append(types, a.Type)
		}
	}
	for _, t := range p.v.Cat.Tables {
		for _, cf := range t.ComputedFields {
			if cf.Returns == nil {
				types = append(types, cf.Scalar)
			}
			for _, a := range cf.Args.Inputs() {
				types = append(types, a.Type)
			}
		}
	}
	for _, typ := range types {
		if !comparisons[typ.Comparison] {
			comparisons[typ.Comparison] = true
			p.comparison(typ)
		}
		if scalars[typ.GraphQL] {
			continue
		}
		scalars[typ.GraphQL] = true
		if typ.Enum != nil {
			values := map[string]string{}
			for _, v := range p.enumValues(typ) {
				values[v[0]] = "  " + v[0]
				if v[1] != "" {
					values[v[0]] = blockString(v[1], "  ") + "\n  " + v[0]
				}
			}
			p.block("", "enum", typ.GraphQL, values)
		} else if !builtinScalars[typ.GraphQL] {
			p.line("scalar %s\n", typ.GraphQL)
		}
	}
}

var builtinScalars = map[string]bool{"Int": true, "Float": true, "String": true, "Boolean": true, "ID": true}

// enumValues are the values of an enum table's type with their comments.
func (p *printer) enumValues(typ Type) [][2]string {
	for _, t := range p.v.Cat.Tables {
		if t.Name+"_enum" == typ.GraphQL && t.Enum != nil {
			out := make([][2]string, len(t.Enum))
			for i, e := range t.Enum {
				out[i] = [2]string{e.Value, e.Comment}
			}
			return out
		}
	}
	return nil
}

// comparison writes typ's <type>_comparison_exp, with the operators
// Hasura gives it (Backends/Postgres/Instances/Schema.hs comparisonExps):
// for an array type, its <type>_array_comparison_exp.
func (p *printer) comparison(typ Type) {
	t := typ.GraphQLType()
	ops := map[string]string{"_eq": t, "_in": "[" + t + "!]", "_is_null": "Boolean", "_neq": t, "_nin": "[" + t + "!]"}
	if typ.Enum == nil {
		for _, op := range []string{"_gt", "_gte", "_lt", "_lte"} {
			ops[op] = t
		}
	}
	descriptions := map[string]string{}
	switch {
	case typ.List:
		ops["_contains"], ops["_contained_in"] = t, t
		descriptions["_contains"] = "does the array contain the given value"
		descriptions["_contained_in"] = "is the array contained in the given array value"
	case typ.Text:
		for _, op := range TextOperators {
			ops[op] = t
		}
		maps.Copy(descriptions, textOperatorDescriptions)
	case typ.JSONB:
		maps.Copy(ops, JSONBOperators)
		maps.Copy(descriptions, jsonbOperatorDescriptions)
		ops["_cast"] = "jsonb_cast_exp"
		p.block("", "input", "jsonb_cast_exp", map[string]string{"String": "  String: String_comparison_exp"})
	}
	fields := map[string]string{}
	for op, typ := range ops {
		fields[op] = described(descriptions[op], fmt.Sprintf("%s: %s", op, typ))
	}
	p.block(fmt.Sprintf(`Boolean expression to compare columns of type "%s". All fields are combined with logical 'AND'.`, typ.GraphQL),
		"input", typ.Comparison, fields)
}

// Hasura's descriptions of the text and jsonb operators.
var (
	textOperatorDescriptions = map[string]string{
		"_like": "does the column match the given pattern", "_nlike": "does the column NOT match the given pattern",
		"_ilike": "does the column match the given case-insensitive pattern", "_nilike": "does the column NOT match the given case-insensitive pattern",
		"_similar": "does the column match the given SQL regular expression", "_nsimilar": "does the column NOT match the given SQL regular expression",
		"_regex": "does the column match the given POSIX regular expression, case sensitive", "_iregex": "does the column match the given POSIX regular expression, case insensitive",
		"_nregex": "does the column NOT match the given POSIX regular expression, case sensitive", "_niregex": "does the column NOT match the given POSIX regular expression, case insensitive",
	}
	jsonbOperatorDescriptions = map[string]string{
		"_contains": "does the column contain the given json value at the top level", "_contained_in": "is the column contained in the given json value",
		"_has_key": "does the string exist as a top-level key in the column", "_has_keys_any": "do any of these strings exist as top-level keys in the column",
		"_has_keys_all": "do all of these strings exist as top-level keys in the column",
	}
)

func graphqlType(c Column) string {
	if c.Nullable {
		return c.Type.GraphQLType()
	}
	return c.Type.GraphQLType() + "!"
}

// listArgs are the arguments of a list of t's rows: root field or
// relationship.
func (p *printer) listArgs(t string) string {
	var args []string
	if len(p.v.Columns(p.v.Cat.byName[t])) > 0 {
		args = append(args, fmt.Sprintf(`"""distinct select on columns"""%s    distinct_on: [%s_select_column!]`, "\n", t))
	}
	args = append(args, `"""limit the number of rows returned"""`+"\n    limit: Int",
		`"""skip the first n rows. Use only with order_by"""`+"\n    offset: Int")
	if p.hasOrderBy(p.v.Cat.byName[t]) {
		args = append(args, fmt.Sprintf(`"""sort the rows by one or more columns"""%s    order_by: [%s_order_by!]`, "\n", t))
	}
	args = append(args, fmt.Sprintf(`"""filter the rows returned"""%s    where: %s_bool_exp`, "\n", t))
	return "(\n    " + strings.Join(args, "\n    ") + "\n  )"
}

func (p *printer) table(t *Table) {
	v := p.v
	perms := v.Of(t)
	n := t.Name
	cols := v.Columns(t)
	sessionUsers := v.WholeUserRow(t)
	rels := v.Relationships(t)
	selectable := v.Selectable(t) || sessionUsers

	if selectable {
		// Input types first: the argument lists name them.
		p.selectInputs(t, cols, rels)
		fields := map[string]string{}
		for _, c := range cols {
			fields[c.Name] = described(c.Comment, c.Name+columnArgs(c)+": "+graphqlType(c))
		}
		for _, r := range rels {
			target := r.Target.Name
			if !r.Array {
				fields[r.Name] = described(firstNonEmpty(r.Comment, "An object relationship"), fmt.Sprintf("%s: %s%s", r.Name, target, map[bool]string{true: "", false: "!"}[p.nullableObject(t, r)]))
				continue
			}
			fields[r.Name] = described(firstNonEmpty(r.Comment, "An array relationship"), fmt.Sprintf("%s%s: [%s!]!", r.Name, p.listArgs(target), target))
			if v.Of(r.Target).Select.Aggregations {
				fields[r.Name+"_aggregate"] = described(firstNonEmpty(r.Comment, "An aggregate relationship"), fmt.Sprintf("%s_aggregate%s: %s_aggregate!", r.Name, p.listArgs(target), target))
			}
		}
		for _, cf := range v.ComputedFields(t) {
			fields[cf.Name] = described(cf.Comment, p.computedField(t, cf))
		}
		p.block(firstNonEmpty(t.Comment, fmt.Sprintf(`columns and relationships of "%s"`, n)), "type", n, fields)
		if v.HasSubscriptionField(RootField{Kind: SelectStream, Table: t}) {
			p.streamInputs(t, cols)
		}
		if !sessionUsers && perms.Select.Aggregations {
			p.aggregateTypes(t, cols)
		}
	}
	if perms.Insert != nil || perms.Update != nil || perms.Delete != nil {
		fields := map[string]string{"affected_rows": described("number of rows affected by the mutation", "affected_rows: Int!")}
		if v.Selectable(t) {
			fields["returning"] = described("data from the rows affected by the mutation", fmt.Sprintf("returning: [%s!]!", n))
		}
		p.block(fmt.Sprintf(`response of any mutation on the table "%s"`, n), "type", n+"_mutation_response", fields)
	}
	p.mutationInputs(t)
}

// streamInputs writes the cursor of t's stream: the columns the role reads.
func (p *printer) streamInputs(t *Table, cols []Column) {
	n := t.Name
	values := map[string]string{}
	for _, c := range cols {
		values[c.Name] = fmt.Sprintf("  %s: %s", c.Name, strings.TrimSuffix(graphqlType(c), "!"))
	}
	p.block("Initial value of the column from where the streaming should start", "input", n+"_stream_cursor_value_input", values)
	p.block(fmt.Sprintf(`Streaming cursor of the table "%s"`, n), "input", n+"_stream_cursor_input", map[string]string{
		"initial_value": described("Stream column input with initial value", "initial_value: "+n+"_stream_cursor_value_input!"),
		"ordering":      described("cursor ordering", "ordering: cursor_ordering"),
	})
}

// nullableObject reports whether an object relationship may find no row:
// when one of its columns is nullable, or it does not follow a foreign key
// of t (Hasura types both as nullable).
func (p *printer) nullableObject(t *Table, r Relationship) bool {
	for _, m := range r.Mapping {
		if c, ok := t.ColumnBySQL(m.From); ok && c.Nullable {
			return true
		}
	}
	return !r.followsKey
}

func (p *printer) aggregateTypes(t *Table, cols []Column) {
	n := t.Name
	var numeric []Column
	for _, c := range cols {
		if c.Type.Numeric {
			numeric = append(numeric, c)
		}
	}
	fns := []string{"count", "max", "min"}
	if len(numeric) > 0 {
		fns = append(fns, NumericAggregates...)
	}
	slices.Sort(fns)
	aggFields := map[string]string{}
	for _, fn := range fns {
		fields := map[string]string{}
		for _, c := range cols {
			switch {
			case fn == "count" || !AggregateApplies(fn, c.Type):
			case fn == "max" || fn == "min":
				fields[c.Name] = fmt.Sprintf("  %s: %s", c.Name, c.Type.GraphQL)
			default:
				fields[c.Name] = fmt.Sprintf("  %s: %s", c.Name, AggregateType(fn, c))
			}
		}
		if fn == "count" {
			args := ""
			if len(cols) > 0 {
				args = fmt.Sprintf("(columns: [%s_select_column!], distinct: Boolean)", n)
			}
			aggFields[fn] = "  count" + args + ": Int!"
			continue
		}
		p.block(fmt.Sprintf("aggregate %s on columns", fn), "type", fmt.Sprintf("%s_%s_fields", n, fn), fields)
		if len(fields) > 0 {
			aggFields[fn] = fmt.Sprintf("  %s: %s_%s_fields", fn, n, fn)
		}
	}
	p.block(fmt.Sprintf(`aggregate fields of "%s"`, n), "type", n+"_aggregate_fields", aggFields)
	p.block(fmt.Sprintf(`aggregated selection of "%s"`, n), "type", n+"_aggregate", map[string]string{
		"aggregate": "  aggregate: " + n + "_aggregate_fields",
		"nodes":     "  nodes: [" + n + "!]!",
	})
}

// selectInputs writes the inputs of reading t: where, order_by, the column
// enum, and those an array relationship to t uses.
func (p *printer) selectInputs(t *Table, cols []Column, rels []Relationship) {
	n := t.Name
	columns := map[string]string{}
	for _, c := range cols {
		columns[c.Name] = "  " + c.Name
	}
	p.block(fmt.Sprintf(`select columns of table "%s"`, n), "enum", n+"_select_column", columns)
	if !p.v.Selectable(t) {
		return // the session's own users row: nothing to filter or order by
	}
	where := map[string]string{
		"_and": fmt.Sprintf("  _and: [%s_bool_exp!]", n), "_not": fmt.Sprintf("  _not: %s_bool_exp", n), "_or": fmt.Sprintf("  _or: [%s_bool_exp!]", n),
	}
	order := map[string]string{}
	for _, c := range cols {
		where[c.Name] = fmt.Sprintf("  %s: %s", c.Name, c.Type.Comparison)
		order[c.Name] = fmt.Sprintf("  %s: order_by", c.Name)
	}
	for _, r := range rels {
		target := r.Target.Name
		where[r.Name] = fmt.Sprintf("  %s: %s_bool_exp", r.Name, target)
		if !r.Array {
			order[r.Name] = fmt.Sprintf("  %s: %s_order_by", r.Name, target)
		} else if p.v.Of(r.Target).Select.Aggregations {
			where[r.Name+"_aggregate"] = fmt.Sprintf("  %s_aggregate: %s_aggregate_bool_exp", r.Name, target)
			order[r.Name+"_aggregate"] = fmt.Sprintf("  %s_aggregate: %s_aggregate_order_by", r.Name, target)
		}
	}
	for _, cf := range p.v.ComputedFields(t) {
		switch {
		case len(cf.Args.Inputs()) > 0: // Hasura filters and orders by those without arguments only
		case cf.Returns != nil:
			where[cf.Name] = fmt.Sprintf("  %s: %s_bool_exp", cf.Name, cf.Returns.Name)
			if p.v.Of(cf.Returns).Select.Aggregations {
				order[cf.Name+"_aggregate"] = fmt.Sprintf("  %s_aggregate: %s_aggregate_order_by", cf.Name, cf.Returns.Name)
			}
		default:
			where[cf.Name] = fmt.Sprintf("  %s: %s", cf.Name, cf.Scalar.Comparison)
			if cf.Scalar.Ordered {
				order[cf.Name] = fmt.Sprintf("  %s: order_by", cf.Name)
			}
		}
	}
	p.block(fmt.Sprintf(`Boolean expression to filter rows from the table "%s". All fields are combined with a logical 'AND'.`, n), "input", n+"_bool_exp", where)
	p.block(fmt.Sprintf(`Ordering options when selecting data from "%s".`, n), "input", n+"_order_by", order)

	// What an array relationship to t filters and orders by.
	count := map[string]string{
		"distinct":  "  distinct: Boolean",
		"filter":    fmt.Sprintf("  filter: %s_bool_exp", n),
		"predicate": "  predicate: Int_comparison_exp!",
	}
	if len(cols) > 0 {
		count["arguments"] = fmt.Sprintf("  arguments: [%s_select_column!]", n)
	}
	p.block("", "input", n+"_aggregate_bool_exp_count", count)
	p.block("", "input", n+"_aggregate_bool_exp", map[string]string{"count": fmt.Sprintf("  count: %s_aggregate_bool_exp_count", n)})
	aggOrder := map[string]string{"count": "  count: order_by"}
	fns := []string{"max", "min"}
	if slices.ContainsFunc(cols, func(c Column) bool { return c.Type.Numeric }) {
		fns = append(fns, NumericAggregates...)
	}
	for _, fn := range fns {
		fields := map[string]string{}
		for _, c := range cols {
			if AggregateApplies(fn, c.Type) {
				fields[c.Name] = fmt.Sprintf("  %s: order_by", c.Name)
			}
		}
		name := fmt.Sprintf("%s_%s_order_by", n, fn)
		p.block(fmt.Sprintf(`order by %s() on columns of table "%s"`, fn, n), "input", name, fields)
		if p.types[name] {
			aggOrder[fn] = fmt.Sprintf("  %s: %s", fn, name)
		}
	}
	p.block(fmt.Sprintf(`order by aggregate values of table "%s"`, n), "input", n+"_aggregate_order_by", aggOrder)
}

// mutationInputs writes the inputs of writing t: what the role may insert
// and update, on_conflict and the primary key.
func (p *printer) mutationInputs(t *Table) {
	n := t.Name
	perms := p.v.Of(t)
	if perms.Update != nil {
		set := map[string]string{}
		for _, c := range t.SortedColumns() {
			if perms.Updates(c.Name) && !c.Generated {
				set[c.Name] = "  " + c.Name
			}
		}
		p.block(fmt.Sprintf(`update columns of table "%s"`, n), "enum", n+"_update_column", set)
		updates := map[string]string{}
		for _, op := range p.updateOperators(t) {
			fields := map[string]string{}
			for _, c := range t.SortedColumns() {
				if perms.Updates(c.Name) && !c.Generated && UpdateOperatorApplies(op, c.Type) {
					fields[c.Name] = fmt.Sprintf("  %s: %s", c.Name, UpdateOperandType(op, c.Type).GraphQLType())
				}
			}
			doc := updateOperatorDocs[op]
			p.block(fmt.Sprintf(doc[0], n), "input", n+op+"_input", fields)
			updates[op] = described(doc[1], op+": "+n+op+"_input")
		}
		if len(t.PrimaryKey) > 0 {
			pk := map[string]string{}
			for _, k := range t.PrimaryKey {
				c, _ := t.Column(k)
				pk[k] = fmt.Sprintf("  %s: %s!", k, c.Type.GraphQLType())
			}
			p.block("primary key columns input for table: "+n, "input", n+"_pk_columns_input", pk)
		}
		if p.hasUpdates(t) {
			updates["where"] = described("filter the rows which have to be updated", "where: "+n+"_bool_exp!")
			p.block("", "input", n+"_updates", updates)
		}
	}
	if p.v.Upserts(t) {
		constraints := map[string]string{}
		for _, c := range t.Constraints {
			constraints[c.Name] = "  " + c.Name
		}
		p.block(fmt.Sprintf(`unique or primary key constraints on table "%s"`, n), "enum", n+"_constraint", constraints)
		fields := map[string]string{
			"constraint":     fmt.Sprintf("  constraint: %s_constraint!", n),
			"update_columns": fmt.Sprintf("  update_columns: [%s_update_column!]! = []", n),
		}
		if p.v.Selectable(t) {
			fields["where"] = fmt.Sprintf("  where: %s_bool_exp", n)
		}
		if p.hasOnConflict(t) {
			p.block(fmt.Sprintf(`on_conflict condition type for table "%s"`, n), "input", n+"_on_conflict", fields)
		}
	}
	if perms.Insert == nil {
		return
	}
	// An insert may carry rows of related tables the role inserts into
	// (nested inserts). Their inputs are written by those tables, so the
	// fields name them without knowing whether they exist yet; the tables
	// are written in order, and a reference to a missing type is pruned.
	fields := map[string]string{}
	for _, c := range t.SortedColumns() {
		if perms.Inserts(c.Name) && !c.Generated {
			fields[c.Name] = fmt.Sprintf("  %s: %s", c.Name, c.Type.GraphQLType())
		}
	}
	for _, r := range t.Relationships {
		if p.hasInsertInput(r.Target) {
			fields[r.Name] = fmt.Sprintf("  %s: %s%s", r.Name, r.Target.Name, map[bool]string{true: "_arr_rel_insert_input", false: "_obj_rel_insert_input"}[r.Array])
		}
	}
	p.block(fmt.Sprintf(`input type for inserting data into table "%s"`, n), "input", n+"_insert_input", fields)
	if !p.hasInsertInput(t) {
		return
	}
	for _, kind := range []struct {
		suffix, desc, data string
	}{
		{"_arr_rel_insert_input", `input type for inserting array relation for remote table "%s"`, "[%s_insert_input!]!"},
		{"_obj_rel_insert_input", `input type for inserting object relation for remote table "%s"`, "%s_insert_input!"},
	} {
		rel := map[string]string{"data": "  data: " + fmt.Sprintf(kind.data, n)}
		if p.hasOnConflict(t) {
			rel["on_conflict"] = described("upsert condition", "on_conflict: "+n+"_on_conflict")
		}
		p.block(fmt.Sprintf(kind.desc, n), "input", n+kind.suffix, rel)
	}
}

// described is a field definition preceded by its description.
func described(desc, def string) string {
	if desc == "" {
		return "  " + def
	}
	return blockString(desc, "  ") + "\n  " + def
}

// columnArgs are the arguments of a column's field: a path into a json or
// jsonb value.
func columnArgs(c Column) string {
	if !c.Type.IsJSON() {
		return ""
	}
	return "(\n    \"\"\"JSON select path\"\"\"\n    path: String\n  )"
}

// pkArgs are the arguments of <t>_by_pk and delete_<t>_by_pk.
func pkArgs(t *Table) string {
	var args []string
	for _, k := range t.PrimaryKey {
		c, _ := t.Column(k)
		args = append(args, k+": "+c.Type.GraphQLType()+"!")
	}
	return "(" + strings.Join(args, ", ") + ")"
}

func (p *printer) roots() {
	query := map[string]string{}
	mutation := map[string]string{}
	subscription := map[string]string{}
	for _, t := range p.v.Cat.Tables {
		n := t.Name
		table := fmt.Sprintf("%q", t.SQL.Hasura())
		onConflict := ""
		if p.hasOnConflict(t) {
			onConflict = ", on_conflict: " + n + "_on_conflict"
		}
		var set []string
		for _, op := range p.updateOperators(t) {
			set = append(set, op+": "+n+op+"_input")
		}
		returning := n + "_mutation_response"
		fields := map[Kind][2]string{
			Select:          {"fetch data from the table: " + table, fmt.Sprintf("%s: [%s!]!", p.listArgs(n), n)},
			SelectAggregate: {"fetch aggregated fields from the table: " + table, fmt.Sprintf("%s: %s_aggregate!", p.listArgs(n), n)},
			SelectByPK:      {"fetch data from the table: " + table + " using primary key columns", pkArgs(t) + ": " + n},
			Insert:          {"insert data into the table: " + table, fmt.Sprintf("(objects: [%s_insert_input!]!%s): %s", n, onConflict, returning)},
			InsertOne:       {"insert a single row into the table: " + table, fmt.Sprintf("(object: %s_insert_input!%s): %s", n, onConflict, n)},
			Update:          {"update data of the table: " + table, fmt.Sprintf("(%s, where: %s_bool_exp!): %s", strings.Join(set, ", "), n, returning)},
			UpdateByPK:      {"update single row of the table: " + table, fmt.Sprintf("(%s, pk_columns: %s_pk_columns_input!): %s", strings.Join(set, ", "), n, n)},
			UpdateMany:      {"update multiples rows of table: " + table, fmt.Sprintf("(updates: [%s_updates!]!): [%s]", n, returning)},
			Delete:          {"delete data from the table: " + table, fmt.Sprintf("(where: %s_bool_exp!): %s", n, returning)},
			DeleteByPK:      {"delete single row from the table: " + table, pkArgs(t) + ": " + n},
			SelectStream: {"fetch data from the table in a streaming manner: " + table, "(\n    " + strings.Join([]string{
				`"""maximum number of rows returned in a single batch"""` + "\n    batch_size: Int!",
				`"""cursor to stream the results returned by the query"""` + "\n    cursor: [" + n + "_stream_cursor_input]!",
				`"""filter the rows returned"""` + "\n    where: " + n + "_bool_exp",
			}, "\n    ") + "\n  ): [" + n + "!]!"},
		}
		for kind, f := range fields {
			rf := RootField{Name: t.RootName(kind), Kind: kind, Table: t}
			desc := firstNonEmpty(t.roots[kind].comment, f[0])
			if kind == SelectStream {
				desc = f[0] // Hasura takes a custom name for it, not a comment
			}
			if p.v.HasSubscriptionField(rf) {
				subscription[rf.Name] = described(desc, rf.Name+f[1])
			}
			if !p.v.HasRootField(rf) || !p.rootFieldTypesExist(rf, len(set) > 0) {
				continue
			}
			if rf.Mutation() {
				mutation[rf.Name] = described(desc, rf.Name+f[1])
			} else {
				query[rf.Name] = described(desc, rf.Name+f[1])
			}
		}
	}
	for _, f := range p.v.Cat.Functions {
		p.functionRoots(f, query, mutation, subscription)
	}
	if len(query) == 0 && !p.v.Session {
		query["no_queries_available"] = "  no_queries_available: String!"
	}
	p.rootType("query_root", query)
	p.rootType("mutation_root", mutation)
	p.rootType("subscription_root", subscription)
}

// rootFieldTypesExist reports whether the types f names were written: an
// insert needs some column to insert, an update some column to set.
func (p *printer) rootFieldTypesExist(f RootField, sets bool) bool {
	switch f.Kind {
	case Insert, InsertOne:
		return p.hasInsertInput(f.Table)
	case Update, UpdateByPK:
		return sets && p.v.Selectable(f.Table)
	case UpdateMany:
		return p.hasUpdates(f.Table)
	case Delete:
		return p.v.Selectable(f.Table)
	}
	return true
}

// rootType writes a root type; an empty one is written for the session
// API's extensions to extend, and dropped by the caller if none does.
func (p *printer) rootType(name string, fields map[string]string) {
	p.line("type %s {", name)
	if len(fields) == 0 {
		p.line("  _empty: Boolean")
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		p.line("%s", fields[k])
	}
	p.line("}")
	p.line("")
}

// The predicates below say whether an input type exists for the role, so
// that a type naming another table's input knows it without depending on
// the order the tables are written in.

func (p *printer) hasOrderBy(t *Table) bool {
	return p.v.Selectable(t) && (len(p.v.Columns(t)) > 0 || len(p.v.Relationships(t)) > 0)
}

// updateOperators are the update operators of t the role has, in
// Hasura's (alphabetical) order: those that take a column it may set.
func (p *printer) updateOperators(t *Table) []string {
	var ops []string
	for _, op := range []string{"_append", "_delete_at_path", "_delete_elem", "_delete_key", "_inc", "_prepend", "_set"} {
		if slices.ContainsFunc(t.Columns, func(c Column) bool {
			return p.v.Of(t).Updates(c.Name) && !c.Generated && UpdateOperatorApplies(op, c.Type)
		}) {
			ops = append(ops, op)
		}
	}
	return ops
}

// updateOperatorDocs are the descriptions of each update operator's input
// type (%s: the table) and of its argument.
var updateOperatorDocs = map[string][2]string{
	"_set": {`input type for updating data in table "%s"`, "sets the columns of the filtered rows to the given values"},
	"_inc": {`input type for incrementing numeric columns in table "%s"`, "increments the numeric columns with given value of the filtered values"},
	"_prepend": {"prepend existing jsonb value of filtered columns with new jsonb value%.0s",
		"prepend existing jsonb value of filtered columns with new jsonb value"},
	"_append": {"append existing jsonb value of filtered columns with new jsonb value%.0s",
		"append existing jsonb value of filtered columns with new jsonb value"},
	"_delete_key": {"delete key/value pair or string element. key/value pairs are matched based on their key value%.0s",
		"delete key/value pair or string element. key/value pairs are matched based on their key value"},
	"_delete_elem": {"delete the array element with specified index (negative integers count from the end). throws an error if top level container is not an array%.0s",
		"delete the array element with specified index (negative integers count from the end). throws an error if top level container is not an array"},
	"_delete_at_path": {"delete the field or element with specified path (for JSON arrays, negative integers count from the end)%.0s",
		"delete the field or element with specified path (for JSON arrays, negative integers count from the end)"},
}

func (p *printer) hasSetInput(t *Table) bool { return len(p.updateOperators(t)) > 0 }

func (p *printer) hasUpdates(t *Table) bool { return p.hasSetInput(t) && p.v.Selectable(t) }

func (p *printer) hasOnConflict(t *Table) bool { return p.v.Upserts(t) && p.hasSetInput(t) }

func (p *printer) hasInsertInput(t *Table) bool {
	return p.v.Of(t).Insert != nil && slices.ContainsFunc(t.Columns, func(c Column) bool {
		return p.v.Of(t).Inserts(c.Name) && !c.Generated
	})
}

// RelationshipFields are the SDL fields of a relationship named name, from
// a type that is no table's (an action's output object) to target, as the
// role v sees it: none where it may not read target; an object
// relationship non-null, as Hasura types an action's; an array one with a
// table's list arguments, and its _aggregate where the role aggregates
// target.
func RelationshipFields(v *View, name string, target *Table, array bool) []string {
	if !v.Selectable(target) {
		return nil
	}
	if !array {
		return []string{described("An object relationship", name+": "+target.Name+"!")}
	}
	p := &printer{v: v, types: map[string]bool{}}
	fields := []string{described("An array relationship", fmt.Sprintf("%s%s: [%s!]!", name, p.listArgs(target.Name), target.Name))}
	if v.Of(target).Select.Aggregations {
		fields = append(fields, described("An aggregate relationship", fmt.Sprintf("%s_aggregate%s: %s_aggregate!", name, p.listArgs(target.Name), target.Name)))
	}
	return fields
}

// functionArgs writes f's <fn>_args, when the role may run it and it takes
// arguments: each nullable, as Hasura types them (an argument without a
// default makes args itself non-null).
func (p *printer) functionArgs(f *Function) {
	if !p.v.mayRun(f) {
		return
	}
	fields := map[string]string{}
	for _, a := range f.Args.Inputs() {
		fields[a.Name] = "  " + a.Name + ": " + a.Type.GraphQLType()
	}
	p.block("", "input", f.Name+"_args", fields)
}

// functionRoots adds f's root fields the role has: <fn> (a list, or for a
// function that returns one row, an object) with args and a table's list
// arguments, in query_root and subscription_root or in mutation_root; and
// <fn>_aggregate.
func (p *printer) functionRoots(f *Function, query, mutation, subscription map[string]string) {
	t := f.Returns.Name
	// args first, then a table's list arguments.
	withArgs := func(name string) string {
		list := p.listArgs(t)
		if len(f.Args.Inputs()) == 0 {
			return list
		}
		required := ""
		if f.Args.Required() {
			required = "!"
		}
		args := fmt.Sprintf("\"\"\"input parameters for function %q\"\"\"\n    args: %s_args%s", name, f.Name, required)
		return "(\n    " + args + "\n    " + strings.TrimPrefix(list, "(\n    ")
	}
	returns := fmt.Sprintf("%q", f.Returns.SQL.Hasura())
	for kind, name := range f.roots {
		rf := RootField{Name: name, Kind: kind, Table: f.Returns, Function: f}
		var desc, def string
		args := withArgs(name)
		switch {
		case kind == FunctionAggregate:
			desc = fmt.Sprintf("execute function %q and query aggregates on result of table type %s", f.SQL.Hasura(), returns)
			def = fmt.Sprintf("%s%s: %s_aggregate!", name, args, t)
		case f.Mutation:
			desc = fmt.Sprintf("execute VOLATILE function %q which returns %s", f.SQL.Hasura(), returns)
		default:
			desc = fmt.Sprintf("execute function %q which returns %s", f.SQL.Hasura(), returns)
		}
		if kind == FunctionSelect {
			if f.Comment != nil {
				desc = *f.Comment
			}
			def = fmt.Sprintf("%s%s: [%s!]!", name, args, t)
			if !f.ReturnsSet {
				def = fmt.Sprintf("%s%s: %s", name, args, t)
			}
		}
		switch {
		case !p.v.HasRootField(rf):
		case rf.Mutation():
			mutation[name] = described(desc, def)
		default:
			query[name] = described(desc, def)
			subscription[name] = described(desc, def)
		}
	}
}

// computedField is the definition of t's computed field cf: a nullable
// scalar, or a nullable list of its table's rows with a table's list
// arguments; args first where it takes arguments. Its <cf>_<t>_args is
// written too.
func (p *printer) computedField(t *Table, cf *ComputedField) string {
	var args []string
	if in := cf.Args.Inputs(); len(in) > 0 {
		fields := map[string]string{}
		for _, a := range in {
			fields[a.Name] = "  " + a.Name + ": " + a.Type.GraphQLType()
		}
		p.block("", "input", cf.ArgsType(t), fields)
		required := ""
		if cf.Args.Required() {
			required = "!"
		}
		args = append(args, fmt.Sprintf("\"\"\"input parameters for computed field %q defined on table %q\"\"\"\n    args: %s%s",
			cf.Name, t.Name, cf.ArgsType(t), required))
	}
	if cf.Returns == nil {
		if cf.Scalar.IsJSON() {
			args = append(args, "\"\"\"JSON select path\"\"\"\n    path: String")
		}
		if len(args) == 0 {
			return cf.Name + ": " + cf.Scalar.GraphQLType()
		}
		return cf.Name + "(\n    " + strings.Join(args, "\n    ") + "\n  ): " + cf.Scalar.GraphQLType()
	}
	list := strings.TrimPrefix(p.listArgs(cf.Returns.Name), "(\n    ")
	if len(args) > 0 {
		list = args[0] + "\n    " + list
	}
	return fmt.Sprintf("%s(\n    %s: [%s!]", cf.Name, list, cf.Returns.Name)
}
