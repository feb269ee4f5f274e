// Package live pushes sessions to their subscribers whenever they change. A
// trigger announces every change to a users row and every change to or
// removal of a sessions row (migration 00003), whoever made it; each instance
// holds one LISTEN connection, re-reads what changed — once per changed user
// and selection, not once per subscriber — and hands each subscriber the new
// state unless it is what that subscriber was sent last.
//
// Delivery never blocks: a subscriber gets a callback it must answer at once
// (graph keeps only the latest state for a slow client), so one slow client
// cannot hold up the others.
package live

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// Channel is the notification channel the triggers use.
const Channel = "freshgraph_live"

// Source is the session a subscriber follows: the caller's, as
// authjs.ReadSession reads it (a cookie's token, or a JWT's user until the
// token expires).
type Source struct {
	Caller auth.Caller
	// User writes the subscriber's selection of the users row; subscribers
	// whose fragments are equal share one read.
	User sqlbuild.Fragment
	// WithExpires says whether the subscriber's selection shows the expiry:
	// if not, a new expiry alone is no change to push.
	WithExpires bool
}

// Subscription is one subscriber.
type Subscription struct {
	hub       *Hub
	src       Source
	shape     string // src.User's key
	tokenHash string
	deliver   func(*authjs.Session)

	mu      sync.Mutex
	userID  string    // the indexed user; set after the first read for cookies
	expires time.Time // of the session, for renders after a user change
	sent    bool      // something (maybe null) was delivered
	last    []byte    // what was delivered last; nil: null
	ended   bool
	timer   *time.Timer
	stop    func() bool // releases the context.AfterFunc
}

// Hub holds the subscriptions of one instance.
type Hub struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	byUser  map[string]map[*Subscription]struct{}
	byToken map[string]map[*Subscription]struct{}
	all     map[*Subscription]struct{}

	// Work announced by notifications, timers and reconnects, coalesced:
	// a burst of changes to one user costs one read.
	pendingMu       sync.Mutex
	pendingUsers    map[string]bool
	pendingSessions map[string]bool
	pendingSubs     map[*Subscription]bool
	wake            chan struct{}
}

// NewHub returns a Hub reading from pool; call Run to start it.
func NewHub(pool *pgxpool.Pool, logger *slog.Logger) *Hub {
	return &Hub{
		pool:            pool,
		logger:          logger,
		byUser:          map[string]map[*Subscription]struct{}{},
		byToken:         map[string]map[*Subscription]struct{}{},
		all:             map[*Subscription]struct{}{},
		pendingUsers:    map[string]bool{},
		pendingSessions: map[string]bool{},
		pendingSubs:     map[*Subscription]bool{},
		wake:            make(chan struct{}, 1),
	}
}

// Run listens for changes until ctx ends. A lost connection is re-made with
// growing delays (100 ms doubling to 5 s); after each reconnection every
// subscription is read again, since notifications sent meanwhile are lost.
func (h *Hub) Run(ctx context.Context) {
	go h.work(ctx)
	l := database.Listener(h.pool, h.logger, "live sessions")
	l.Handle(Channel, listenHandler{h})
	_ = l.Listen(ctx)
}

type listenHandler struct{ h *Hub }

// HandleNotification queues what a notification names.
func (l listenHandler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var msg struct {
		User    string `json:"user"`
		Session string `json:"session"`
	}
	if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil {
		return err
	}
	l.h.pendingMu.Lock()
	if msg.User != "" {
		l.h.pendingUsers[msg.User] = true
	}
	if msg.Session != "" {
		l.h.pendingSessions[msg.Session] = true
	}
	l.h.pendingMu.Unlock()
	l.h.signal()
	return nil
}

// HandleBacklog runs after every (re)connection: whatever changed while the
// hub was not listening is unknown, so every subscription is read again.
func (l listenHandler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	l.h.mu.Lock()
	l.h.pendingMu.Lock()
	for s := range l.h.all {
		l.h.pendingSubs[s] = true
	}
	l.h.pendingMu.Unlock()
	l.h.mu.Unlock()
	l.h.signal()
	return nil
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// work runs the queued re-reads, one batch at a time, so reads of one user
// never race each other.
func (h *Hub) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		h.pendingMu.Lock()
		users, sessions, subs := h.pendingUsers, h.pendingSessions, h.pendingSubs
		h.pendingUsers, h.pendingSessions, h.pendingSubs = map[string]bool{}, map[string]bool{}, map[*Subscription]bool{}
		h.pendingMu.Unlock()

		h.mu.Lock()
		for hash := range sessions {
			for s := range h.byToken[hash] {
				subs[s] = true
			}
		}
		byShape := map[string]map[string][]*Subscription{} // user → shape → subscribers
		for id := range users {
			for s := range h.byUser[id] {
				if subs[s] {
					continue // read whole below
				}
				if byShape[id] == nil {
					byShape[id] = map[string][]*Subscription{}
				}
				byShape[id][s.shape] = append(byShape[id][s.shape], s)
			}
		}
		h.mu.Unlock()

		for s := range subs {
			s.refresh(ctx)
		}
		for id, shapes := range byShape {
			for _, group := range shapes {
				h.renderUser(ctx, id, group)
			}
		}
	}
}

// renderUser reads a changed user once for subscribers sharing a selection.
func (h *Hub) renderUser(ctx context.Context, userID string, group []*Subscription) {
	userJSON, found, err := authjs.UserByID(ctx, h.pool, userID, group[0].src.User)
	if err != nil {
		for _, s := range group {
			s.retry(ctx, err)
		}
		return
	}
	for _, s := range group {
		if !found {
			s.push(nil)
			continue
		}
		s.mu.Lock()
		expires := s.expires
		s.mu.Unlock()
		s.push(&authjs.Session{UserID: userID, User: userJSON, Expires: expires})
	}
}

// Subscribe starts following src for as long as ctx lives; deliver receives
// the first state at once (nil if there is no session: signed out, expired,
// or its user deleted) and every change after. deliver must not block.
func (h *Hub) Subscribe(ctx context.Context, src Source, deliver func(*authjs.Session)) *Subscription {
	s := &Subscription{hub: h, src: src, shape: src.User.Key(), deliver: deliver}
	if src.Caller.SessionToken != "" {
		s.tokenHash = tokenHash(src.Caller.SessionToken)
	}
	h.mu.Lock()
	h.all[s] = struct{}{}
	if s.tokenHash != "" {
		addTo(h.byToken, s.tokenHash, s)
	}
	h.mu.Unlock()
	s.refresh(ctx)
	s.stop = context.AfterFunc(ctx, s.close)
	return s
}

// tokenHash names a session as the trigger does.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func addTo(m map[string]map[*Subscription]struct{}, key string, s *Subscription) {
	if m[key] == nil {
		m[key] = map[*Subscription]struct{}{}
	}
	m[key][s] = struct{}{}
}

func removeFrom(m map[string]map[*Subscription]struct{}, key string, s *Subscription) {
	delete(m[key], s)
	if len(m[key]) == 0 {
		delete(m, key)
	}
}

// close forgets the subscription.
func (s *Subscription) close() {
	h := s.hub
	h.mu.Lock()
	delete(h.all, s)
	if s.tokenHash != "" {
		removeFrom(h.byToken, s.tokenHash, s)
	}
	s.mu.Lock()
	if s.userID != "" {
		removeFrom(h.byUser, s.userID, s)
	}
	s.ended = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	h.mu.Unlock()
}

// refresh reads the subscriber's whole session again and pushes it.
func (s *Subscription) refresh(ctx context.Context) {
	s.mu.Lock()
	ended := s.ended
	s.mu.Unlock()
	if ended {
		return
	}
	sess, err := authjs.ReadSession(ctx, s.hub.pool, s.src.Caller, s.src.User, false)
	if err != nil {
		s.retry(ctx, err)
		return
	}
	// Filed under its user: a JWT's, while the token lives, even when the
	// user is gone (it may come back).
	var userID string
	switch {
	case sess != nil:
		userID = sess.UserID
	case authjs.JWTSessionLive(s.src.Caller):
		userID = s.src.Caller.UserID
	}
	s.index(userID)
	s.push(sess)
}

// retry reads the subscription again soon: a read can fail while PostgreSQL
// restarts, and the state it would have pushed must not be lost.
func (s *Subscription) retry(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	h := s.hub
	h.logger.Warn("live sessions: read failed; retrying", "err", err)
	time.AfterFunc(500*time.Millisecond, func() {
		h.pendingMu.Lock()
		h.pendingSubs[s] = true
		h.pendingMu.Unlock()
		h.signal()
	})
}

// index files the subscription under the user its session belongs to, and
// arms a timer for the session's expiry.
func (s *Subscription) index(userID string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || userID == s.userID {
		return
	}
	if s.userID != "" {
		removeFrom(h.byUser, s.userID, s)
	}
	s.userID = userID
	if userID != "" {
		addTo(h.byUser, userID, s)
	}
}

// push delivers up unless it is what was delivered last. Delivering under
// s.mu keeps pushes in order; deliver never blocks.
func (s *Subscription) push(up *authjs.Session) {
	var payload []byte
	if up != nil {
		payload = append([]byte(nil), up.User...)
		if s.src.WithExpires {
			payload = append(payload, up.Expires.UTC().Format(time.RFC3339Nano)...)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	// The expiry is tracked even when the subscriber does not show it.
	if up == nil {
		if s.timer != nil {
			s.timer.Stop()
		}
	} else if !up.Expires.Equal(s.expires) {
		s.expires = up.Expires
		s.armTimer(up.Expires)
	}
	if s.sent && bytes.Equal(payload, s.last) {
		return
	}
	s.sent, s.last = true, payload
	s.deliver(up)
}

// armTimer schedules a re-read when the session expires; s.mu is held.
func (s *Subscription) armTimer(expires time.Time) {
	if s.timer != nil {
		s.timer.Stop()
	}
	h := s.hub
	s.timer = time.AfterFunc(time.Until(expires)+10*time.Millisecond, func() {
		h.pendingMu.Lock()
		h.pendingSubs[s] = true
		h.pendingMu.Unlock()
		h.signal()
	})
}
