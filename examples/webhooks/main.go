// Command webhooks answers the example project's actions (reportPost, and
// exportMyData in the background) and its event and cron triggers (examples/hasura-project): the handlers an
// app would keep among its own API routes. Run it beside freshgraph:
//
//	go run ./examples/webhooks    # listens on :3001 (WEBHOOKS_ADDR)
//
// Each handler decodes Hasura's payload, does its work (here: logs what it
// would send), and answers 200; any other answer makes freshgraph retry
// the event as the trigger's retry_conf says.
package main

import (
	"cmp"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"
)

// eventPayload is what an event trigger POSTs.
type eventPayload struct {
	ID      string `json:"id"`
	Trigger struct {
		Name string `json:"name"`
	} `json:"trigger"`
	Event struct {
		Op               string            `json:"op"`
		SessionVariables map[string]string `json:"session_variables"`
		Data             struct {
			Old json.RawMessage `json:"old"`
			New json.RawMessage `json:"new"`
		} `json:"data"`
	} `json:"event"`
	DeliveryInfo struct {
		CurrentRetry int `json:"current_retry"`
	} `json:"delivery_info"`
}

// cronPayload is what a cron trigger POSTs.
type cronPayload struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	ScheduledTime time.Time       `json:"scheduled_time"`
	Payload       json.RawMessage `json:"payload"`
}

func main() {
	addr := cmp.Or(os.Getenv("WEBHOOKS_ADDR"), "localhost:3001")
	log.Printf("example webhooks on http://%s", addr)
	srv := &http.Server{Addr: addr, Handler: routes(), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events/comment-added", func(w http.ResponseWriter, r *http.Request) {
		var p eventPayload
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
			http.Error(w, `{"message":"not an event"}`, http.StatusBadRequest)
			return
		}
		var comment struct {
			PostID int    `json:"post_id"`
			Body   string `json:"body"`
		}
		_ = json.Unmarshal(p.Event.Data.New, &comment)
		// The event's id is the same on every retry: an app that must not
		// act twice keeps the ids it has handled.
		log.Printf("event %s (%s, try %d): notify the author of post %d of a new comment %q, written by role %s",
			p.ID, p.Trigger.Name, p.DeliveryInfo.CurrentRetry+1, comment.PostID, comment.Body, p.Event.SessionVariables["x-hasura-role"])
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /cron/daily-digest", func(w http.ResponseWriter, r *http.Request) {
		var p cronPayload
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
			http.Error(w, `{"message":"not a cron event"}`, http.StatusBadRequest)
			return
		}
		log.Printf("cron %s (%s) for %s: send the digest, payload %s", p.ID, p.Name, p.ScheduledTime.Format(time.RFC3339), p.Payload)
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /actions/report-post", func(w http.ResponseWriter, r *http.Request) {
		var call struct {
			Action struct {
				Name string `json:"name"`
			} `json:"action"`
			Input struct {
				PostID  string  `json:"postId"`
				Reason  string  `json:"reason"`
				Details *string `json:"details"`
			} `json:"input"`
			SessionVariables map[string]string `json:"session_variables"`
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&call); err != nil || call.Input.PostID == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"not a reportPost call","extensions":{"code":"bad-request"}}`))
			return
		}
		if call.Input.Reason == "OTHER" && call.Input.Details == nil {
			// A 4xx with {message, extensions} is the GraphQL error the
			// client sees, as the handler words it.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"say what is wrong with the post in details","extensions":{"code":"details-required"}}`))
			return
		}
		ticket := "T-" + call.Input.PostID[:8]
		log.Printf("action %s by user %s: post %s reported for %s, ticket %s",
			call.Action.Name, call.SessionVariables["x-hasura-user-id"], call.Input.PostID, call.Input.Reason, ticket)
		_ = json.NewEncoder(w).Encode(map[string]string{"ticket": ticket, "postId": call.Input.PostID, "reason": call.Input.Reason})
	})
	mux.HandleFunc("POST /actions/export-my-data", func(w http.ResponseWriter, r *http.Request) {
		// An asynchronous action's call: the client has its id already, and
		// reads this answer with exportMyData(id:) when it is ready.
		var call struct {
			SessionVariables map[string]string `json:"session_variables"`
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&call)
		user := call.SessionVariables["x-hasura-user-id"]
		if user == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"sign in to export your data","extensions":{"code":"unauthorized"}}`))
			return
		}
		url := "https://files.example.com/exports/" + user + ".zip"
		log.Printf("action exportMyData by user %s: export written to %s", user, url)
		_ = json.NewEncoder(w).Encode(map[string]string{"userId": user, "url": url})
	})
	return mux
}
