package accounts

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/session"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var testConfig = session.Config{Secrets: []string{strings.Repeat("cleanup-secret-", 3)}, MaxAge: time.Hour, UpdateAge: time.Minute}

const userID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

// Two instances clean up at once, while people sign in: every expired
// session and verification token goes, each once, in batches, and no live
// row — old or just written — is touched.
func TestCleanUpDeletesOnlyExpiredRows(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	for _, sql := range []string{
		`INSERT INTO users (id, email) VALUES ('` + userID + `', 'cleanup@example.com')`,
		`INSERT INTO sessions ("sessionToken", "userId", expires)
			SELECT 'expired-' || i, '` + userID + `', now() - interval '1 minute' FROM generate_series(1, 2500) i`,
		`INSERT INTO sessions ("sessionToken", "userId", expires)
			SELECT 'live-' || i, '` + userID + `', now() + interval '1 day' FROM generate_series(1, 300) i`,
		`INSERT INTO verification_tokens (token, identifier, expires)
			SELECT 'expired-' || i, 'cleanup@example.com', now() - interval '1 second' FROM generate_series(1, 1500) i`,
		`INSERT INTO verification_tokens (token, identifier, expires)
			SELECT 'live-' || i, 'cleanup@example.com', now() + interval '1 hour' FROM generate_series(1, 10) i`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	instances := []*Service{NewService(pool, testConfig), NewService(pool, testConfig)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sessions, tokens int64
	for _, s := range instances {
		wg.Go(func() {
			n, m, err := s.CleanUp(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sessions, tokens = sessions+n, tokens+m
			mu.Unlock()
		})
	}
	wg.Go(func() {
		for range 200 {
			if _, _, err := authjs.StartSession(ctx, pool, userID, time.Hour, 0, authjs.Client{}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	// The instance that found the lock taken stopped; the other finished.
	// A run after them finds nothing left.
	if n, m, err := instances[0].CleanUp(ctx); err != nil || n != 0 || m != 0 {
		t.Errorf("a last run deleted %d sessions and %d tokens (%v)", n, m, err)
	}
	if sessions != 2500 || tokens != 1500 {
		t.Errorf("deleted %d sessions and %d verification tokens, want 2500 and 1500", sessions, tokens)
	}
	var expired, live, fresh, expiredTokens, liveTokens int
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM sessions WHERE "sessionToken" LIKE 'expired-%'),
		(SELECT count(*) FROM sessions WHERE "sessionToken" LIKE 'live-%'),
		(SELECT count(*) FROM sessions WHERE "sessionToken" NOT LIKE 'expired-%' AND "sessionToken" NOT LIKE 'live-%'),
		(SELECT count(*) FROM verification_tokens WHERE token LIKE 'expired-%'),
		(SELECT count(*) FROM verification_tokens WHERE token LIKE 'live-%')`).Scan(&expired, &live, &fresh, &expiredTokens, &liveTokens); err != nil {
		t.Fatal(err)
	}
	if expired != 0 || live != 300 || fresh != 200 || expiredTokens != 0 || liveTokens != 10 {
		t.Errorf("left %d expired, %d live, %d new sessions; %d expired and %d live tokens", expired, live, fresh, expiredTokens, liveTokens)
	}
}

// A session lives at most MaxLifetime after it was started, however often
// it is used: its expiry starts there at the latest, and its extension
// never moves it past.
func TestSessionsEndAtTheirLifetime(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, email) VALUES ('`+userID+`', 'lifetime@example.com')`); err != nil {
		t.Fatal(err)
	}
	token, expires, err := authjs.StartSession(ctx, pool, userID, 2*time.Hour, time.Hour, authjs.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d < 59*time.Minute || d > time.Hour {
		t.Errorf("a new session expires in %v, want its lifetime of 1h", d)
	}
	// 59m50s later, used: it may not be extended past its lifetime.
	if _, err := pool.Exec(ctx, `UPDATE freshgraph_session_devices SET created_at = now() - interval '59 minutes 50 seconds';
		UPDATE sessions SET expires = now() + interval '10 seconds'`); err != nil {
		t.Fatal(err)
	}
	at, live, moved, err := authjs.ExtendSession(ctx, pool, token, 2*time.Hour, time.Hour)
	if err != nil || !live || moved || time.Until(at) > 10*time.Second {
		t.Errorf("extended at its lifetime's end: expires in %v, live %v, moved %v (%v)", time.Until(at), live, moved, err)
	}
	// Without a lifetime, the same session slides as before.
	at, live, moved, err = authjs.ExtendSession(ctx, pool, token, 2*time.Hour, 0)
	if err != nil || !live || !moved || time.Until(at) < 119*time.Minute {
		t.Errorf("extended without a lifetime: expires in %v, live %v, moved %v (%v)", time.Until(at), live, moved, err)
	}
}
