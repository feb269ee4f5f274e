package events

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The figures logged each minute count what waits and what failed, per
// trigger, and only that: a trigger whose events were all delivered, or
// whose only row is a cron time still ahead, is not named.
func TestWaitingCountsDueAndFailedRows(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO freshgraph_event_log (kind, trigger_name, status, created_at, next_attempt_at, scheduled_time) VALUES
		('event', 'a', 'pending', now() - interval '30 seconds', now() - interval '1 second', NULL),
		('event', 'a', 'pending', now(), now() + interval '1 minute', NULL),
		('event', 'a', 'failed', now(), now(), NULL),
		('event', 'b', 'delivered', now(), now(), NULL),
		('cron', 'c', 'pending', now(), now() + interval '1 hour', now() + interval '1 hour'),
		('cron', 'd', 'failed', now(), now(), now() - interval '1 day')`); err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{Pool: pool, Logger: slog.New(slog.DiscardHandler)}}
	got, err := s.waiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[0].Pending != 1 || got[0].Failed != 1 || got[0].OldestPendingSeconds < 29 || got[0].OldestPendingSeconds > 60 ||
		got[1].Name != "d" || got[1].Kind != "cron" || got[1].Pending != 0 || got[1].Failed != 1 {
		t.Errorf("waiting: %+v", got)
	}
}
