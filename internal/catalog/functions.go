package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/freshgraph/freshgraph/internal/database"
)

// Function is one SQL function, as pg_proc has it.
type Function struct {
	Name Name
	// Args are its arguments, in order; an unnamed one's Name is "".
	Args []Column
	// Defaults is how many of the last arguments have a default.
	Defaults int
	// Volatility is pg_proc.provolatile: i (IMMUTABLE), s (STABLE) or v
	// (VOLATILE).
	Volatility string
	ReturnsSet bool
	// Returns is the table (or view) whose row type it returns; zero when
	// it returns something else, which ReturnType names.
	Returns    Name
	ReturnType string
	// Result is the type it returns, as a column of that type would have
	// it.
	Result Column
	// Variadic: its last argument is VARIADIC; OnlyIn: it has no OUT,
	// INOUT or TABLE argument.
	Variadic, OnlyIn bool
	Comment          string
}

// ReadFunctions reads the functions names name, every overload of each:
// one round trip however many there are.
func ReadFunctions(ctx context.Context, db database.Conn, names []Name) (map[Name][]*Function, error) {
	raw, err := readByNames(ctx, db, readFunctionsSQL, names)
	if err != nil {
		return nil, fmt.Errorf("read the catalogue's functions: %w", err)
	}
	var rows []struct {
		Schema, Name, Volatility, Comment string
		ReturnSchema                      string `json:"return_schema"`
		ReturnTable                       string `json:"return_table"`
		ReturnType                        string `json:"return_type"`
		ReturnsSet                        bool   `json:"returns_set"`
		Variadic                          bool
		OnlyIn                            bool `json:"only_in"`
		Defaults                          int
		Result                            struct {
			Type, Kind, Element, Cast string
			ElementKind               string `json:"element_kind"`
		}
		Args []struct {
			Name, Type, Kind, Element, Cast string
			ElementKind                     string `json:"element_kind"`
			RelationSchema                  string `json:"relation_schema"`
			Relation                        string
		}
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read the catalogue's functions: %w", err)
	}
	out := map[Name][]*Function{}
	for _, r := range rows {
		f := &Function{Name: Name{r.Schema, r.Name}, Defaults: r.Defaults, Volatility: r.Volatility, ReturnsSet: r.ReturnsSet,
			ReturnType: r.ReturnType, Variadic: r.Variadic, OnlyIn: r.OnlyIn, Comment: r.Comment}
		if r.ReturnTable != "" {
			f.Returns = Name{r.ReturnSchema, r.ReturnTable}
		}
		f.Result = Column{Type: r.Result.Type, Kind: r.Result.Kind, Element: r.Result.Element, ElementKind: r.Result.ElementKind,
			Cast: r.Result.Cast, Nullable: true}
		for _, a := range r.Args {
			c := Column{Name: a.Name, Type: a.Type, Kind: a.Kind, Element: a.Element, ElementKind: a.ElementKind, Cast: a.Cast, Nullable: true}
			if a.Relation != "" {
				c.Relation = Name{a.RelationSchema, a.Relation}
			}
			f.Args = append(f.Args, c)
		}
		out[f.Name] = append(out[f.Name], f)
	}
	return out, nil
}

const readFunctionsSQL = `
SELECT coalesce(json_agg(json_build_object(
    'schema', n.nspname, 'name', p.proname, 'volatility', p.provolatile, 'returns_set', p.proretset,
    'variadic', p.provariadic <> 0, 'only_in', coalesce('i' = ALL (p.proargmodes), true),
    'defaults', p.pronargdefaults, 'comment', coalesce(obj_description(p.oid, 'pg_proc'), ''),
    'return_schema', coalesce(rn.nspname, ''), 'return_table', coalesce(rc.relname, ''),
    'return_type', format_type(p.prorettype, NULL),
    'result', json_build_object('type', rt.typname, 'kind', rt.typtype,
        'element', coalesce(CASE WHEN rt.typcategory = 'A' THEN re.typname END, ''),
        'element_kind', coalesce(CASE WHEN rt.typcategory = 'A' THEN re.typtype END, ''),
        'cast', CASE WHEN rt.typname = 'bpchar' THEN 'bpchar' WHEN rt.typcategory = 'A' AND re.typname = 'bpchar' THEN 'bpchar[]'
            ELSE format_type(p.prorettype, NULL) END),
    'args', (
        SELECT coalesce(json_agg(json_build_object(
            'name', coalesce(p.proargnames[a.i], ''), 'type', t.typname, 'kind', t.typtype,
            'element', coalesce(CASE WHEN t.typcategory = 'A' THEN e.typname END, ''),
            'element_kind', coalesce(CASE WHEN t.typcategory = 'A' THEN e.typtype END, ''),
            'cast', CASE WHEN t.typname = 'bpchar' THEN 'bpchar' WHEN t.typcategory = 'A' AND e.typname = 'bpchar' THEN 'bpchar[]'
                ELSE format_type(a.oid, NULL) END,
            'relation_schema', coalesce(an.nspname, ''), 'relation', coalesce(ac.relname, '')
        ) ORDER BY a.i), '[]')
        FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(oid, i)
        JOIN pg_type t ON t.oid = a.oid
        LEFT JOIN pg_type e ON e.oid = t.typelem
        LEFT JOIN pg_class ac ON ac.oid = t.typrelid
        LEFT JOIN pg_namespace an ON an.oid = ac.relnamespace
    )
) ORDER BY p.oid), '[]')
FROM unnest($1::text[], $2::text[]) AS w(schema_name, function_name)
JOIN pg_namespace n ON n.nspname = w.schema_name
JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = w.function_name AND p.prokind = 'f'
JOIN pg_type rt ON rt.oid = p.prorettype
LEFT JOIN pg_type re ON re.oid = rt.typelem
LEFT JOIN pg_class rc ON rc.oid = rt.typrelid AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace`
