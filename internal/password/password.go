// Package password hashes and checks passwords with argon2id.
package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/trustelem/zxcvbn/frequency"
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

// Check reports whether pw may be a password, as NIST SP 800-63B asks: 8
// to 128 characters, no composition rules, and neither one of the common
// and breached passwords zxcvbn ships (30,000, from leaked password sets)
// nor one of the words of its context (the account's email, its local
// part), in any letter case.
func Check(pw string, context ...string) error {
	if n := utf8.RuneCountInString(pw); n < MinLength || n > MaxLength {
		return fmt.Errorf("password must be %d to %d characters", MinLength, MaxLength)
	}
	lower := strings.ToLower(pw)
	if _, ok := common()[lower]; ok {
		return errors.New("password is one of the most common passwords; choose another")
	}
	for _, word := range context {
		if word != "" && lower == strings.ToLower(word) {
			return errors.New("password must not be the account's email or name")
		}
	}
	return nil
}

// common is the set of common passwords long enough to be passwords here,
// in lower case, made on first use.
var common = sync.OnceValue(func() map[string]struct{} {
	set := map[string]struct{}{}
	for _, pw := range frequency.FrequencyLists["passwords"] {
		if utf8.RuneCountInString(pw) >= MinLength {
			set[strings.ToLower(pw)] = struct{}{}
		}
	}
	return set
})

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
