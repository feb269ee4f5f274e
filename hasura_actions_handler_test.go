package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// hasuraActionHandler answers as Hasura's own test handler of Actions
// (server/tests-py/context.py, ActionsWebhookHandler) does, on the tables
// of its fixtures (testdata/hasura/projects/actions): it writes and reads
// the database the server serves.
type hasuraActionHandler struct {
	pool atomic.Pointer[pgxpool.Pool]
	// gate, if set, holds the creation of a user named "Gated" until it
	// is closed.
	gate chan struct{}
	mu   sync.Mutex
	// calls are the bodies and headers of the calls, in order.
	calls []hasuraActionCall
}

type hasuraActionCall struct {
	body   map[string]any
	header http.Header
}

// last is the last call of the handler.
func (h *hasuraActionHandler) last() hasuraActionCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) == 0 {
		return hasuraActionCall{}
	}
	return h.calls[len(h.calls)-1]
}

var emailRE = regexp.MustCompile(`^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$`)

func (h *hasuraActionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Input map[string]any `json:"input"`
	}
	_ = json.Unmarshal(raw, &body)
	var whole map[string]any
	_ = json.Unmarshal(raw, &whole)
	h.mu.Lock()
	h.calls = append(h.calls, hasuraActionCall{body: whole, header: r.Header.Clone()})
	h.mu.Unlock()
	in := body.Input
	if in["name"] == "Gated" && h.gate != nil {
		<-h.gate
	}
	ctx := r.Context()
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "abcd")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	invalidEmail := map[string]string{"message": "Given email address is not valid", "code": "invalid-email"}
	switch r.URL.Path {
	case "/create-user":
		email, _ := in["email"].(string)
		if !emailRE.MatchString(email) {
			answer(400, invalidEmail)
			return
		}
		answer(h.insertUser(ctx, in["name"], email))
	case "/create-user-nested":
		status, v := h.insertUser(ctx, in["name"], in["email"])
		answer(status, map[string]any{"userObj": v})
	case "/create-users":
		users, _ := in["users"].([]any)
		var out []any
		for _, u := range users {
			u, _ := u.(map[string]any)
			if email, _ := u["email"].(string); !emailRE.MatchString(email) {
				answer(400, invalidEmail)
				return
			}
			_, v := h.insertUser(ctx, u["name"], u["email"])
			out = append(out, v)
		}
		answer(200, out)
	case "/mirror-action":
		answer(200, in["arg"])
	case "/null-response":
		answer(200, nil)
	case "/scalar-response":
		answer(200, "some-string")
	case "/get-user-by-email":
		ids := h.userIDs(ctx, in["email"])
		if len(ids) == 0 {
			answer(400, map[string]string{"message": "No such user", "code": "not-found"})
			return
		}
		answer(200, map[string]any{"id": ids[0]})
	case "/get-users-by-email":
		var out []any
		for _, id := range h.userIDs(ctx, in["email"]) {
			out = append(out, map[string]any{"id": id})
		}
		answer(200, out)
	case "/get-user-by-email-nested":
		ids := h.userIDs(ctx, in["email"])
		if len(ids) == 0 {
			answer(400, map[string]string{"message": "No such user", "code": "not-found"})
			return
		}
		answer(200, map[string]any{"id": ids[0], "user_id": map[string]any{"id": ids[0]},
			"address":   map[string]any{"city": "New York", "country": "USA"},
			"addresses": []any{map[string]any{"city": "Bangalore", "country": "India"}, map[string]any{"city": "Melbourne", "country": "Australia"}}})
	case "/intentional-error":
		answer(400, in["blob"])
	case "/test-action-user-role-async":
		w.WriteHeader(200)
		// Not JSON, nor even text PostgreSQL keeps: a NUL and a byte that
		// is no UTF-8.
		_, _ = io.WriteString(w, "this is not JSON\x00\xff")
	default:
		http.NotFound(w, r)
	}
}

func (h *hasuraActionHandler) insertUser(ctx context.Context, name, email any) (int, any) {
	var id int
	if err := h.pool.Load().QueryRow(ctx, `INSERT INTO "user" (name, email) VALUES ($1, $2) RETURNING id`, name, email).Scan(&id); err != nil {
		return 500, map[string]string{"message": err.Error()}
	}
	return 200, map[string]any{"id": id}
}

func (h *hasuraActionHandler) userIDs(ctx context.Context, email any) []int {
	rows, err := h.pool.Load().Query(ctx, `SELECT id FROM "user" WHERE email = $1 ORDER BY id`, email)
	if err != nil {
		return nil
	}
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int])
	return ids
}
