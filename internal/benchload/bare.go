package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/session"
)

// serveBare is the bare handler's process: what a hand-written net/http +
// pgx endpoint for the same two queries at least does — the session
// cookie's decoding for /session, one statement, the JSON written.
func serveBare() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cookies, err := session.NewCookies(session.Config{Secrets: []string{os.Getenv("SESSION_SECRET")}, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("OK")) })
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		token, ok := cookies.Token(r)
		if !ok {
			writeJSON(w, []byte(`{"data":{"session":null}}`))
			return
		}
		var user []byte
		var expires time.Time
		err := pool.QueryRow(r.Context(), `SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email,
			'image', u.image, 'emailVerified', u."emailVerified"), s.expires
			FROM sessions s JOIN users u ON u.id = s."userId" WHERE s."sessionToken" = $1 AND s.expires > now()`, token).Scan(&user, &expires)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out, _ := json.Marshal(map[string]any{"data": map[string]any{"session": map[string]any{"user": json.RawMessage(user), "expires": expires}}})
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /users_by_pk", func(w http.ResponseWriter, r *http.Request) {
		var user []byte
		err := pool.QueryRow(r.Context(), `SELECT json_build_object('id', id, 'name', name, 'email', email,
			'image', image, 'emailVerified', "emailVerified") FROM users WHERE id = $1`, r.URL.Query().Get("id")).Scan(&user)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, append(append([]byte(`{"data":{"users_by_pk":`), user...), "}}"...))
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), mux))
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
