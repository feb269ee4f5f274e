package main

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The handlers take the payloads freshgraph sends for the example
// project's triggers (as TestEventTriggersDeliverEachWrite and
// TestCronTriggers check them), and refuse what is not one.
func TestHandlers(t *testing.T) {
	var logged bytes.Buffer
	log.SetOutput(&logged)
	srv := httptest.NewServer(routes())
	defer srv.Close()
	for _, tt := range []struct {
		path, body string
		status     int
		logs       string
	}{
		{"/events/comment-added", `{"event":{"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"u1"},"op":"INSERT",
			"data":{"old":null,"new":{"id":1,"post_id":7,"author_id":"u1","body":"Nice"}}},"created_at":"2024-01-15T10:20:30.123456",
			"id":"0b5b9c2e-0000-4000-8000-000000000001","delivery_info":{"max_retries":3,"current_retry":1},
			"trigger":{"name":"comment_added"},"table":{"schema":"public","name":"comments"}}`, 200,
			`event 0b5b9c2e-0000-4000-8000-000000000001 (comment_added, try 2): notify the author of post 7 of a new comment "Nice", written by role user`},
		{"/cron/daily-digest", `{"scheduled_time":"2024-01-15T08:00:00Z","payload":{"kind":"digest"},"name":"daily_digest",
			"id":"0b5b9c2e-0000-4000-8000-000000000002","comment":null}`, 200,
			`cron 0b5b9c2e-0000-4000-8000-000000000002 (daily_digest) for 2024-01-15T08:00:00Z: send the digest, payload {"kind":"digest"}`},
		{"/events/comment-added", `not json`, 400, ""},
		{"/actions/report-post", `{"action":{"name":"reportPost"},"input":{"postId":"0b5b9c2e-0000-4000-8000-000000000009","reason":"SPAM"},
			"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"u1"},"request_query":"mutation { reportPost }"}`, 200,
			`action reportPost by user u1: post 0b5b9c2e-0000-4000-8000-000000000009 reported for SPAM, ticket T-0b5b9c2e`},
		{"/actions/report-post", `{"action":{"name":"reportPost"},"input":{"postId":"0b5b9c2e-0000-4000-8000-000000000009","reason":"OTHER"}}`, 400, ""},
		{"/actions/export-my-data", `{"action":{"name":"exportMyData"},"input":{},"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"u1"},
			"request_query":null}`, 200, `action exportMyData by user u1: export written to https://files.example.com/exports/u1.zip`},
		{"/actions/export-my-data", `{"action":{"name":"exportMyData"},"input":{},"session_variables":{"x-hasura-role":"anonymous"}}`, 400, ""},
	} {
		logged.Reset()
		resp, err := http.Post(srv.URL+tt.path, "application/json", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(logged.String(), tt.logs) {
			t.Errorf("%s: %d, logged %q; want %d and %q", tt.path, resp.StatusCode, logged.String(), tt.status, tt.logs)
		}
	}
}
