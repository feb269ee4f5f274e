package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// Plans are queries compiled once, as Hasura plans them: a request whose
// role, document and operation were answered before, with variables and a
// caller of the same shape, skips gqlgen — parsing, validation, permission
// checks, SQL compilation — and only binds its variables and session
// values into the statements compiled for the first one. Nothing about
// data is kept: every request still reads PostgreSQL.
//
// A plan is made after a request answered without errors, by compiling its
// operation a second time with a marker in place of each value it may
// bind (the string variables of scalar types, the session variables, the
// session token, the answer's byte budget), and kept only when the markers
// went exactly where the request's own values went: the same SQL, the
// same arguments once bound. A value that shapes the SQL (an Int, a
// Boolean, an enum, an input object or list, a null) is part of the
// shape's key instead. Anything the fast path cannot answer exactly as
// gqlgen would — an unknown shape, a missing session variable — goes
// through gqlgen, which also gives every error its exact words.
type plans struct {
	docs *lru.Cache[docKey, *docPlans]
}

// maxShapes bounds the plans of one document: a document whose variables
// come in more shapes than this is planned for the first ones only.
const maxShapes = 16

func newPlans(size int) *plans {
	docs, err := lru.New[docKey, *docPlans](size)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	return &plans{docs: docs}
}

// docPlans are the plans of one role's document and operation, by shape.
type docPlans struct {
	// none: the operation is never planned (a mutation or subscription).
	none   bool
	schema *ast.Schema // the role's, which types the variables
	vars   []planVar
	mu     sync.RWMutex
	// byShape holds nil for a shape that cannot be planned.
	byShape map[string]*plan
}

// planVar is one of the operation's variables.
type planVar struct {
	name string
	typ  *ast.Type
}

// plan is one shape's compiled root fields, in the order of the answer.
type plan struct {
	fields []plannedField
	// wholeGenerated: every field is a hand-written one (the session API),
	// whose answer is counted against the size limit as a whole, as gqlgen
	// answers it.
	wholeGenerated bool
}

type plannedField struct {
	alias string
	// constant is the JSON of a __typename.
	constant []byte
	// statement is a table's query, its arguments to bind at slots.
	statement *engine.Statement
	// session is the session API's session, its user's SQL to bind.
	session *sessionShape
	slots   []slot
}

// slot is an argument a request binds: a variable's value, a session
// variable, the session token, or the answer's remaining byte budget.
type slot struct {
	arg  int
	kind slotKind
	name string
	// path is a variable's value's place: the variable, then the fields
	// of input objects down to the string bound.
	path []string
}

type slotKind int

const (
	slotVariable slotKind = iota
	slotSession
	slotToken
	slotBudget
)

// The markers: strings no client knows (a random prefix per process) and
// an int64 budget no request has.
var (
	markerPrefix = func() string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return "\x00freshgraph-plan-" + hex.EncodeToString(b[:]) + ":"
	}()
	tokenMarker = markerPrefix + "token"
)

const budgetMarker int64 = math.MinInt64 + 7

func variableMarker(name string) string { return markerPrefix + "var:" + name }

// marker is the marker of the string at path in the variables.
func marker(path, _ string) string     { return variableMarker(path) }
func sessionMarker(name string) string { return markerPrefix + "session:" + name }

// slotsOf finds the markers among a compiled statement's arguments.
func slotsOf(args []any) []slot {
	var out []slot
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			if v == budgetMarker {
				out = append(out, slot{arg: i, kind: slotBudget})
			}
		case string:
			rest, ok := strings.CutPrefix(v, markerPrefix)
			if !ok {
				continue
			}
			switch {
			case rest == "token":
				out = append(out, slot{arg: i, kind: slotToken})
			case strings.HasPrefix(rest, "var:"):
				name := rest[len("var:"):]
				out = append(out, slot{arg: i, kind: slotVariable, name: name, path: strings.Split(name, ".")})
			case strings.HasPrefix(rest, "session:"):
				out = append(out, slot{arg: i, kind: slotSession, name: rest[len("session:"):]})
			}
		}
	}
	return out
}

// bind returns template's arguments with the request's values at slots;
// false when the caller lacks a session variable the plan uses.
func bind(template []any, slots []slot, vars map[string]any, caller auth.Caller, budget int64) ([]any, bool) {
	args := make([]any, len(template))
	copy(args, template)
	for _, s := range slots {
		switch s.kind {
		case slotVariable:
			args[s.arg] = valueAt(vars, s.path)
		case slotSession:
			v, ok := caller.Var(s.name)
			if !ok {
				return nil, false
			}
			args[s.arg] = v
		case slotToken:
			args[s.arg] = caller.SessionToken
		case slotBudget:
			args[s.arg] = budget
		}
	}
	return args, true
}

// docKey names a role's document and operation.
type docKey struct {
	role             auth.Role
	operation, query string
}

// shape is the key of the variables' and the caller's shape: per variable,
// "s" for a string it binds, its JSON otherwise, "~" when absent. False
// when a value is for no variable the operation declares (gqlgen refuses
// it).
func (dp *docPlans) shape(vars map[string]any, caller auth.Caller) (string, bool) {
	b, ok := dp.appendShape(make([]byte, 0, 16), vars, caller)
	return string(b), ok
}

func (dp *docPlans) appendShape(b []byte, vars map[string]any, caller auth.Caller) ([]byte, bool) {
	if len(vars) > len(dp.vars) {
		return nil, false
	}
	if caller.SessionToken != "" {
		b = append(b, 't')
	}
	if caller.UserID != "" {
		b = append(b, 'u')
	}
	found := 0
	for _, v := range dp.vars {
		b = append(b, 0)
		x, ok := vars[v.name]
		if !ok {
			b = append(b, '~')
			continue
		}
		found++
		if b, ok = dp.appendValueShape(b, v.typ, x); !ok {
			return nil, false
		}
	}
	return b, found == len(vars)
}

// bindsStrings reports whether a string of type t goes to SQL as it is, a
// bound argument: t is a scalar, and neither a number, a Boolean nor JSON
// (whose values are JSON, strings among them). An enum's value picks SQL.
func bindsStrings(schema *ast.Schema, t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	switch t.NamedType {
	case "Int", "Float", "Boolean", "json", "jsonb":
		return false
	}
	def := schema.Types[t.NamedType]
	return def != nil && def.Kind == ast.Scalar
}

// inputObject is t's definition when t is an input object type.
func inputObject(schema *ast.Schema, t *ast.Type) *ast.Definition {
	if t.Elem != nil {
		return nil
	}
	if def := schema.Types[t.NamedType]; def != nil && def.Kind == ast.InputObject {
		return def
	}
	return nil
}

// appendValueShape appends the key of v, a value of type t, to a shape:
// "s" for each non-empty string a plan binds (one of bindsStrings' type,
// itself or in input objects and their lists), any other value by
// appendValueKey.
// False for a field no input object of the schema has (gqlgen refuses it).
func (dp *docPlans) appendValueShape(b []byte, t *ast.Type, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		if x != "" && bindsStrings(dp.schema, t) {
			return append(b, 's'), true
		}
	case map[string]any:
		def := inputObject(dp.schema, t)
		if def == nil {
			break
		}
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			field := def.Fields.ForName(k)
			if field == nil {
				return nil, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = dp.appendValueShape(b, field.Type, x[k]); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	case []any:
		if t.Elem == nil || inputObject(dp.schema, t.Elem) == nil {
			break // a list of scalars, e.g. _in's, is bound as a whole or not at all
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = dp.appendValueShape(b, t.Elem, e); !ok {
				return nil, false
			}
		}
		return append(b, ']'), true
	}
	return appendValueKey(b, v)
}

// markValue is coerced, gqlgen's value of raw (of type t, at path), with
// each string appendValueShape binds replaced by mark(its path, it); false
// when gqlgen coerced such a string into anything else.
func (dp *docPlans) markValue(t *ast.Type, raw, coerced any, path string, mark func(path, s string) string) (any, bool) {
	switch x := raw.(type) {
	case string:
		if x != "" && bindsStrings(dp.schema, t) {
			if c, ok := coerced.(string); !ok || c != x {
				return nil, false
			}
			return mark(path, x), true
		}
	case map[string]any:
		def := inputObject(dp.schema, t)
		if def == nil {
			break
		}
		c, ok := coerced.(map[string]any)
		if !ok {
			return nil, false
		}
		out := maps.Clone(c) // with any defaults gqlgen filled in
		for k, e := range x {
			field := def.Fields.ForName(k)
			if field == nil {
				return nil, false
			}
			if out[k], ok = dp.markValue(field.Type, e, c[k], path+"."+k, mark); !ok {
				return nil, false
			}
		}
		return out, true
	case []any:
		if t.Elem == nil || inputObject(dp.schema, t.Elem) == nil {
			break
		}
		c, ok := coerced.([]any)
		if !ok || len(c) != len(x) {
			return nil, false
		}
		out := make([]any, len(x))
		for i, e := range x {
			if out[i], ok = dp.markValue(t.Elem, e, c[i], path+"."+strconv.Itoa(i), mark); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return coerced, true
}

// valueAt is the value at path in a request's variables: a variable, then
// fields of input objects and indices of their lists (a field's name never
// starts with a digit); a shape's key made sure they are there.
func valueAt(vars map[string]any, path []string) any {
	v := vars[path[0]]
	for _, step := range path[1:] {
		switch x := v.(type) {
		case map[string]any:
			v = x[step]
		case []any:
			i, _ := strconv.Atoi(step)
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// appendValueKey appends a key of a decoded JSON value that two values
// share only when they are the same JSON (objects' keys in order, numbers
// by their text), made without reflection; false for a value of another
// Go type.
func appendValueKey(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		return strconv.AppendQuote(b, x), true
	case json.Number:
		return append(b, x...), true
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendValueKey(b, e); !ok {
				return nil, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendValueKey(b, x[k]); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	}
	return nil, false
}

func (dp *docPlans) get(shape []byte) (*plan, bool) {
	dp.mu.RLock()
	defer dp.mu.RUnlock()
	p, ok := dp.byShape[string(shape)] // no copy of shape for the lookup
	return p, ok
}

func (dp *docPlans) put(shape string, p *plan) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if len(dp.byShape) < maxShapes {
		dp.byShape[shape] = p
	}
}

// pending is a request that went through gqlgen for want of a plan: its
// answer teaches one. vars are a copy of the request's own, taken before
// gqlgen coerces them in place.
type pending struct {
	docKey docKey
	vars   map[string]any
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON[T any](v T) T {
	var c func(any) any
	c = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = c(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = c(e)
			}
			return l
		}
		return v
	}
	out, _ := c(v).(T)
	return out
}

type pendingKey struct{}

func pendingFrom(ctx context.Context) *pending {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	return p
}

// Planned answers a request from its plan, if there is one; otherwise it
// returns ctx for gqlgen's executor, marked to make the plan from its
// answer.
func (s *Schemas) Planned(ctx context.Context, params *graphql.RawParams) (context.Context, *graphql.Response) {
	caller := auth.CallerFrom(ctx)
	rs := s.of(caller.Role)
	key := docKey{caller.Role, params.OperationName, params.Query}
	learn := func() context.Context {
		return context.WithValue(ctx, pendingKey{}, &pending{docKey: key, vars: cloneJSON(params.Variables)})
	}
	m := rs.r.Metrics
	dp, ok := rs.plans.docs.Get(key)
	if !ok {
		m.Plan(metrics.PlanMiss)
		return learn(), nil
	}
	if dp.none {
		m.Plan(metrics.PlanNone)
		return ctx, nil
	}
	var buf [64]byte
	shape, ok := dp.appendShape(buf[:0], params.Variables, caller)
	if !ok {
		m.Plan(metrics.PlanNone)
		return ctx, nil
	}
	p, ok := dp.get(shape)
	switch {
	case !ok:
		m.Plan(metrics.PlanMiss)
		return learn(), nil
	case p == nil:
		m.Plan(metrics.PlanNone)
		return ctx, nil
	}
	if resp, ok := rs.answerPlanned(ctx, p, params.Variables, caller); ok {
		m.Plan(metrics.PlanHit)
		return ctx, resp
	}
	m.Plan(metrics.PlanNone)
	return ctx, nil
}

// answerPlanned runs p for the request; false when it cannot bind, and
// gqlgen must answer.
func (s *roleSchema) answerPlanned(ctx context.Context, p *plan, vars map[string]any, caller auth.Caller) (*graphql.Response, bool) {
	// Bind everything first: falling back after a statement ran would run
	// it twice.
	bound := make([][]any, len(p.fields))
	for i, f := range p.fields {
		var template []any
		switch {
		case f.statement != nil:
			template = f.statement.Args
		case f.session != nil:
			template = f.session.userArgs()
		default:
			continue
		}
		args, ok := bind(template, f.slots, vars, caller, 0)
		if !ok {
			return nil, false
		}
		bound[i] = args
	}
	var errs gqlerror.List
	fail := func(alias string, err error) {
		errs = append(errs, gqlerror.WrapPath(ast.Path{ast.PathName(alias)}, err))
	}
	out := make([]byte, 0, 512)
	out = append(out, '{')
	for i, f := range p.fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendQuote(out, f.alias)
		out = append(out, ':')
		ctx, span := s.r.Tracer.StartRootField(ctx, "query", f.alias)
		failed := len(errs)
		switch {
		case f.constant != nil:
			out = append(out, f.constant...)
		case f.statement != nil:
			for _, sl := range f.slots {
				if sl.kind == slotBudget {
					bound[i][sl.arg] = limits.Remaining(ctx)
				}
			}
			value, err := engine.Statement{SQL: f.statement.SQL, Args: bound[i]}.Run(ctx, s.r.DB)
			if err == nil {
				err = limits.Spend(ctx, len(value))
			}
			if err != nil {
				fail(f.alias, err)
				value = []byte("null")
			}
			out = append(out, value...)
		default:
			value, err := s.plannedSession(ctx, f.session, bound[i], caller)
			if err == nil && !p.wholeGenerated {
				err = limits.Spend(ctx, len(value))
			}
			if err != nil {
				fail(f.alias, err)
				value = []byte("null")
			}
			out = append(out, value...)
		}
		tracing.EndRootField(span, len(errs) > failed)
	}
	out = append(out, '}')
	if len(errs) == 0 && p.wholeGenerated {
		if err := limits.Spend(ctx, len(out)); err != nil {
			errs = append(errs, gqlerror.WrapPath(nil, err))
		}
	}
	if len(errs) > 0 {
		return s.exec.DispatchError(ctx, errs), true
	}
	return &graphql.Response{Data: out}, true
}

// plannedSession is queryRoot.Session over a planned shape.
func (s *roleSchema) plannedSession(ctx context.Context, shape *sessionShape, args []any, caller auth.Caller) ([]byte, error) {
	sess, cookie, err := s.r.Accounts.Session(ctx, caller, shape.user.WithArgs(args))
	exchangeFrom(ctx).setCookie(cookie)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return []byte("null"), nil
	}
	return shape.render(sess)
}

// learn makes the plan of the request that went through gqlgen, answered
// op's root fields without errors, and was marked pending.
func (s *roleSchema) learn(ctx context.Context, p *pending, op *graphql.OperationContext, fields []graphql.CollectedField) {
	dp, ok := s.plans.docs.Get(p.docKey)
	if !ok {
		dp = s.newDocPlans(op)
		s.plans.docs.Add(p.docKey, dp)
	}
	if dp.none {
		return
	}
	caller := auth.CallerFrom(ctx)
	shape, ok := dp.shape(p.vars, caller)
	if !ok {
		return
	}
	if _, known := dp.get([]byte(shape)); known {
		return
	}
	dp.put(shape, s.makePlan(op, fields, dp, p.vars, caller))
}

// newDocPlans holds the plans of op's document, none yet.
func (s *roleSchema) newDocPlans(op *graphql.OperationContext) *docPlans {
	dp := &docPlans{none: op.Operation.Operation != ast.Query, schema: s.schema, byShape: map[string]*plan{}}
	for _, v := range op.Operation.VariableDefinitions {
		dp.vars = append(dp.vars, planVar{name: v.Variable, typ: v.Type})
	}
	return dp
}

// makePlan compiles fields with markers for the values a request binds, and
// returns the plan if the markers took exactly the places of the values op
// was answered with; nil if not, or if a field is not one a plan answers.
func (s *roleSchema) makePlan(op *graphql.OperationContext, fields []graphql.CollectedField, dp *docPlans, raw map[string]any, caller auth.Caller) *plan {
	vars := maps.Clone(op.Variables)
	for _, v := range dp.vars {
		if x, ok := raw[v.name]; ok {
			if vars[v.name], ok = dp.markValue(v.typ, x, op.Variables[v.name], v.name, marker); !ok {
				return nil
			}
		}
	}
	marked := operationLike(op, op.Operation, vars)
	markedCaller := caller
	if caller.SessionToken != "" {
		markedCaller.SessionToken = tokenMarker
	}
	if caller.UserID != "" {
		markedCaller.UserID = sessionMarker("x-hasura-user-id")
	}
	markedCaller.Vars = make(map[string]string, len(caller.Vars))
	for name := range caller.Vars {
		markedCaller.Vars[name] = sessionMarker(name)
	}
	// The same compiled both ways, and the markers bound with the
	// request's values, must give the same statement.
	same := func(sqlMarked, sqlReal string, marked, real []any, slots []slot) bool {
		bound, ok := bind(marked, slots, raw, caller, budgetMarker)
		return ok && sqlMarked == sqlReal && slices.EqualFunc(bound, real, func(a, b any) bool { return reflect.DeepEqual(a, b) })
	}
	p := &plan{wholeGenerated: true}
	for _, f := range fields {
		pf := plannedField{alias: f.Alias}
		rf, isTable := s.view.RootField(f.Name)
		switch {
		case f.Name == "__typename":
			pf.constant = []byte(strconv.Quote(rootTypeName(op.Operation.Operation)))
		case isTable && engine.IsQuery(rf.Kind) && !rf.PassesSession():
			// (A session argument's JSON holds every session variable, which
			// a plan's shape does not tell apart.)
			p.wholeGenerated = false
			st, err := engine.CompileQuery(marked, rf, f, s.view, markedCaller, budgetMarker)
			if err != nil {
				return nil
			}
			real, err := engine.CompileQuery(op, rf, f, s.view, caller, budgetMarker)
			pf.slots = slotsOf(st.Args)
			if err != nil || !same(st.SQL, real.SQL, st.Args, real.Args, pf.slots) {
				return nil
			}
			pf.statement = &st
		case !isTable && originalName(s.original, f.Name) == "session" && s.parts["query_root."+f.Name] == s.generated && s.generated != nil:
			shapeMarked, err := newSessionShape(marked, f, s.view, markedCaller)
			if err != nil {
				return nil
			}
			shapeReal, err := newSessionShape(op, f, s.view, caller)
			pf.slots = slotsOf(shapeMarked.userArgs())
			if err != nil || !same(shapeMarked.user.SQL(), shapeReal.user.SQL(), shapeMarked.userArgs(), shapeReal.userArgs(), pf.slots) {
				return nil
			}
			pf.session = shapeMarked
		default:
			return nil
		}
		p.fields = append(p.fields, pf)
	}
	return p
}
