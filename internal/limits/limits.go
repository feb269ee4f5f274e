// Package limits bounds the work one request can cause, whoever sends it.
// Its vocabulary is Hasura's api_limits (depth_limit, node_limit,
// batch_limit, time_limit, each global with per-role overrides), plus what
// Hasura leaves to its proxy: the parser's limits, which run before
// validation because validation's cost grows with the square of a
// document's fields, and a cap on the bytes of one answer.
package limits

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// Config is every limit. A zero value of a limit means none.
type Config struct {
	// Tokens is the parser's token limit for one document.
	Tokens int
	// Directives bounds the directives on one field, fragment or operation.
	Directives int
	// Selections bounds the fields of one selection set, its fragments'
	// fields included.
	Selections int
	// Depth is depth_limit: the deepest path of fields, `{ a { b } }` being 2.
	Depth PerRole[int]
	// Nodes is node_limit: the fields of the whole document, fragments
	// expanded wherever they are spread.
	Nodes PerRole[int]
	// Batch is batch_limit: the operations of one batched HTTP request.
	Batch PerRole[int]
	// Time is time_limit: how long one request may run, its SQL included.
	Time PerRole[time.Duration]
	// ResponseBytes bounds the bytes of one answer (a whole batch's).
	ResponseBytes int64
}

// Defaults are limits that no real client reaches: GraphiQL's introspection
// query is 14 levels deep and has about 300 nodes.
func Defaults() Config {
	return Config{
		Tokens:        15000,
		Directives:    10,
		Selections:    500,
		Depth:         PerRole[int]{Global: 20},
		Nodes:         PerRole[int]{Global: 1000},
		Batch:         PerRole[int]{Global: 20},
		Time:          PerRole[time.Duration]{Global: 30 * time.Second},
		ResponseBytes: 16 << 20,
	}
}

// String names the per-role limits, for the log.
func (c Config) String() string {
	return fmt.Sprintf("depth_limit=%s node_limit=%s batch_limit=%s time_limit=%s", c.Depth, c.Nodes, c.Batch, c.Time)
}

// Limit values are counts, durations or byte sizes.
type Limit interface{ int | int64 | time.Duration }

// PerRole is one api_limits entry: a global value and per-role overrides.
type PerRole[T Limit] struct {
	Global  T
	PerRole map[string]T
}

// For is the limit of role; zero means none.
func (p PerRole[T]) For(role string) T {
	if v, ok := p.PerRole[role]; ok {
		return v
	}
	return p.Global
}

// Max is the largest limit of any role, or zero if some role has none.
func (p PerRole[T]) Max() T {
	m := p.Global
	for _, v := range p.PerRole {
		if v == 0 || m == 0 {
			return 0
		}
		m = max(m, v)
	}
	return m
}

// String writes p back in the form ParsePerRole reads.
func (p PerRole[T]) String() string {
	parts := []string{formatLimit(p.Global)}
	for _, role := range slices.Sorted(maps.Keys(p.PerRole)) {
		parts = append(parts, role+"="+formatLimit(p.PerRole[role]))
	}
	return strings.Join(parts, ",")
}

func formatLimit[T Limit](v T) string {
	if v == 0 {
		return "off"
	}
	if d, ok := any(v).(time.Duration); ok {
		return d.String()
	}
	return strconv.FormatInt(int64(v), 10)
}

// ParsePerRole reads "20" (every role), "20,anonymous=5" or "admin=off"
// (overrides only) into p; parse reads one value, "off" is no limit.
func ParsePerRole[T Limit](p *PerRole[T], s string, parse func(string) (T, error)) error {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		role, value, perRole := strings.Cut(part, "=")
		if !perRole {
			value = part
		}
		var v T
		if value = strings.TrimSpace(value); value != "off" {
			var err error
			if v, err = parse(value); err != nil {
				return err
			}
			if v <= 0 {
				return errors.New("a limit must be positive, or off")
			}
		}
		if !perRole {
			p.Global = v
			continue
		}
		if role = strings.TrimSpace(role); role == "" {
			return errors.New("expected role=value")
		}
		if p.PerRole == nil {
			p.PerRole = map[string]T{}
		}
		p.PerRole[role] = v
	}
	return nil
}

// ParseCount reads a count such as 1000.
func ParseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("expected a whole number, got %q", s)
	}
	return n, nil
}

// ParseDuration reads whole seconds (Hasura's unit, "30") or a Go duration
// ("1m30s").
func ParseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected seconds or a duration such as 30s, got %q", s)
	}
	return d, nil
}

// ParseBytes reads a size in bytes, optionally with KiB, MiB or GiB.
func ParseBytes(s string) (int64, error) {
	num, mult := s, int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			num, mult = strings.TrimSpace(n), m
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<62)/mult {
		return 0, fmt.Errorf("expected a size such as 16MiB or 1048576, got %q", s)
	}
	return n * mult, nil
}

func exceeded(limit string, code hasura.Code, format string, args ...any) *hasura.Error {
	return &hasura.Error{Code: code, Message: fmt.Sprintf(format, args...), Limit: limit}
}

// roleLimit names a per-role limit in an error.
func roleLimit(name string, value any, role string) string {
	return fmt.Sprintf("%s of %v for role '%s'", name, value, role)
}

// BatchError refuses a batch of n operations for role, if over its limit.
func (c Config) BatchError(role string, n int) error {
	if limit := c.Batch.For(role); limit > 0 && n > limit {
		return exceeded("batch_limit", hasura.CodeBadRequest, "%s exceeded: the batch has %d operations",
			roleLimit("batch_limit", limit, role), n)
	}
	return nil
}

// TimeError is the answer to a request that ran out of its time limit.
func TimeError(role string, limit time.Duration) *hasura.Error {
	return exceeded("time_limit", hasura.CodeTimeLimit, "%s exceeded: the request was stopped", roleLimit("time_limit", limit, role))
}

// ResponseSizeError is the answer to a request whose answer would be size
// bytes (or more, when size is not known) over a cap of limit bytes.
func ResponseSizeError(limit, size int64) *hasura.Error {
	if size <= 0 {
		return exceeded("response_size_limit", hasura.CodeResponseSize, "response_size_limit of %d bytes exceeded", limit)
	}
	return exceeded("response_size_limit", hasura.CodeResponseSize, "response_size_limit of %d bytes exceeded: the response has %d bytes", limit, size)
}
