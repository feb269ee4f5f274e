package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/benchload/statements"
	"github.com/freshgraph/freshgraph/internal/cpuprofile"
	"github.com/freshgraph/freshgraph/internal/session"
)

// serveBare is the bare handler's process: what a hand-written net/http +
// pgx endpoint answering the very requests freshgraph gets (POST, the same
// bodies and headers) at least does — the body read (and, but for the
// session, its variable decoded into a struct), the admin secret or the
// session cookie checked, freshgraph's own statement (package statements),
// the JSON written.
func serveBare() {
	ctx := context.Background()
	profileUntilInterrupt(os.Getenv("BARE_CPUPROFILE"))
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cookies, err := session.NewCookies(session.Config{Secrets: []string{os.Getenv("SESSION_SECRET")}, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	adminSecret := []byte(os.Getenv("ADMIN_SECRET"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("OK")) })
	mux.HandleFunc("POST /session", func(w http.ResponseWriter, r *http.Request) {
		// One fixed query: the body is read, as HTTP needs, and not parsed.
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		token, ok := cookies.Token(r)
		if !ok {
			writeJSON(w, []byte(`{"data":{"session":null}}`))
			return
		}
		var id string
		var user []byte
		var expires time.Time
		if err := pool.QueryRow(r.Context(), statements.Session.SQL, statements.Session.Args(token)...).Scan(&id, &user, &expires); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out, _ := json.Marshal(map[string]any{"data": map[string]any{"session": map[string]any{"user": json.RawMessage(user), "expires": expires}}})
		writeJSON(w, out)
	})
	type byID struct {
		UserID string `json:"userId"`
	}
	mux.HandleFunc("POST /users_by_pk", adminQuery(pool, adminSecret, "users_by_pk", statements.UsersByPK,
		func(v byID) string { return v.UserID }))
	// The adapter's getUserByEmail and getSessionAndUser, as Hasura-style
	// lists.
	type byEmail struct {
		Where struct {
			Email struct {
				Eq string `json:"_eq"`
			} `json:"email"`
		} `json:"where"`
	}
	mux.HandleFunc("POST /users_where", adminQuery(pool, adminSecret, "users", statements.UsersByEmail,
		func(v byEmail) string { return v.Where.Email.Eq }))
	type byToken struct {
		SessionToken string `json:"sessionToken"`
	}
	mux.HandleFunc("POST /sessions_with_user", adminQuery(pool, adminSecret, "sessions", statements.SessionsWithUser,
		func(v byToken) string { return v.SessionToken }))
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux))
}

// adminQuery answers an admin's request whose variables decode into V (in
// the body's one decoding) with st's one JSON value as data.field; value
// is the request's argument of st.
func adminQuery[V any](pool *pgxpool.Pool, adminSecret []byte, field string, st statements.Statement, value func(V) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Hasura-Admin-Secret")), adminSecret) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var req struct {
			Variables V `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out []byte
		if err := pool.QueryRow(r.Context(), st.SQL, st.Args(value(req.Variables))...).Scan(&out); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, append(append([]byte(`{"data":{"`+field+`":`), out...), "}}"...))
	}
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// profileUntilInterrupt writes the process's CPU profile to path, if set,
// until the interrupt that stops it: where the bare handler's CPU goes, to
// hold freshgraph's profile against.
func profileUntilInterrupt(path string) {
	if path == "" {
		return
	}
	stop, err := cpuprofile.Start(path)
	if err != nil {
		log.Fatal(err)
	}
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	go func() {
		<-interrupted
		stop()
		os.Exit(0)
	}()
}
