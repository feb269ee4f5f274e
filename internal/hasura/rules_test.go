package hasura

import "testing"

// Integers as Haskell shows a Scientific, as Hasura's out-of-bounds
// message writes them (Data.Scientific: fixed below 10^7, exponent from it).
func TestScientific(t *testing.T) {
	for raw, want := range map[string]string{
		"0": "0.0", "123": "123.0", "1234567": "1234567.0", "10000000": "1.0e7", "100000000": "1.0e8",
		"3000000000": "3.0e9", "2147483648": "2.147483648e9", "-3000000000": "-3.0e9", "0012": "12.0",
	} {
		if got := scientific(raw); got != want {
			t.Errorf("scientific(%s) = %s, want %s", raw, got, want)
		}
	}
}

// Hasura's englishList (Hasura.Server.Utils), for the names of a cycle.
func TestEnglishList(t *testing.T) {
	for want, items := range map[string][]string{
		"A": {"A"}, "A and B": {"A", "B"}, "A, B, and C": {"A", "B", "C"},
	} {
		if got := englishList(items); got != want {
			t.Errorf("englishList(%q) = %q, want %q", items, got, want)
		}
	}
}
