// Package password hashes and checks passwords with argon2id.
package password

import (
	"context"
	"fmt"
	"runtime"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Bounds on a password's length in characters: long enough to resist
// guessing, short enough that hashing stays cheap to ask for.
const (
	MinLength = 8
	MaxLength = 128
)

// params follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane):
// about 30 ms a hash here, and bounded memory under load.
var params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher hashes passwords, a few at a time: each hash holds 19 MiB, and a
// burst of sign-ins must not take the server's memory with it.
type Hasher struct {
	slots chan struct{}
	// dummy is checked when there is no account, so that an unknown email
	// costs as much time as a wrong password.
	dummy string
}

// NewHasher returns a Hasher that runs at most GOMAXPROCS hashes at once.
func NewHasher() *Hasher {
	h := &Hasher{slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	dummy, err := argon2id.CreateHash("no account has this password", params)
	if err != nil {
		panic(err) // only fails if the system's random source does
	}
	h.dummy = dummy
	return h
}

// CheckLength reports whether pw's length is within the bounds.
func CheckLength(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinLength || n > MaxLength {
		return fmt.Errorf("password must be %d to %d characters", MinLength, MaxLength)
	}
	return nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(pw, params)
}

// Verify reports whether pw matches hash. An empty hash (no such account)
// never matches, after the same work as a real check.
func (h *Hasher) Verify(ctx context.Context, pw, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, h.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(pw, hash)
}
