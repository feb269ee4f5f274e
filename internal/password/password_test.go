package password

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestHashAndVerify(t *testing.T) {
	h := NewHasher()
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", hash)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := h.Verify(ctx, pw, hash); ok != want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if ok, err := h.Verify(ctx, "correct horse battery", ""); ok || err != nil {
		t.Errorf("Verify with no account = %v, %v; want false", ok, err)
	}
}

// A password is 8 to 128 characters, with no composition rules, and
// neither a common nor a breached one nor the account's email, in any case.
func TestCheck(t *testing.T) {
	for pw, want := range map[string]string{
		"1234567":                "password must be 8 to 128 characters",
		"ééééééé":                "password must be 8 to 128 characters", // 7 characters, 14 bytes
		strings.Repeat("x", 129): "password must be 8 to 128 characters",
		"12345678":               "password is one of the most common passwords; choose another",
		"password":               "password is one of the most common passwords; choose another",
		"PassWord":               "password is one of the most common passwords; choose another",
		"trustno1":               "password is one of the most common passwords; choose another",
		"qwertyuiop":             "password is one of the most common passwords; choose another",
		"ada@example.com":        "password must not be the account's email or name",
		"ADA@example.com":        "password must not be the account's email or name",
		"correct horse battery":  "",
		"ééééééééé":              "",
		"lowercaseonly":          "",
		strings.Repeat("x", 128): "",
	} {
		err := Check(pw, "ada@example.com", "ada")
		if got := fmt.Sprint(err); err == nil && want != "" || err != nil && got != want {
			t.Errorf("Check(%q) = %v, want %q", pw, err, want)
		}
	}
	if n := len(common()); n < 5000 {
		t.Errorf("%d common passwords of 8 characters or more, want thousands", n)
	}
}

// BenchmarkVerify shows that signing in as an unknown email costs what a wrong
// password costs, so response times do not tell which emails have accounts.
func BenchmarkVerify(b *testing.B) {
	h := NewHasher()
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	measure := func(stored string) time.Duration {
		start := time.Now()
		for range 20 {
			_, _ = h.Verify(ctx, "wrong password!", stored)
		}
		return time.Since(start) / 20
	}
	for range b.N {
		// Alternate, so that drift hits both.
		var wrong, unknown time.Duration
		for range 3 {
			wrong += measure(hash)
			unknown += measure("")
		}
		b.ReportMetric(float64(wrong.Microseconds())/3000, "wrong-password-ms")
		b.ReportMetric(float64(unknown.Microseconds())/3000, "unknown-email-ms")
		b.ReportMetric(float64(unknown)/float64(wrong), "ratio")
	}
}
