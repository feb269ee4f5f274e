package ratelimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("a", now)
	if ok || wait != time.Minute {
		t.Errorf("4th attempt: %v, wait %v; want refused, 1m", ok, wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Error("another key was limited")
	}
	if ok, _ := l.Allow("a", now.Add(time.Minute)); !ok {
		t.Error("no token back after a minute")
	}
	// Refilled buckets are dropped.
	l.Allow("c", now.Add(10*time.Minute))
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept, want 1 (only c)", len(l.buckets))
	}
}
