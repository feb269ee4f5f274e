package hasura

import "testing"

// Numbers as Haskell shows a Scientific, as Hasura's out-of-bounds
// messages write them (Data.Scientific: fixed for exponents 0 to 7, else
// d.ddde<n>).
func TestScientific(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0.0", "123": "123.0", "1234567": "1234567.0", "10000000": "1.0e7", "100000000": "1.0e8",
		"3000000000": "3.0e9", "2147483648": "2.147483648e9", "-3000000000": "-3.0e9", "0012": "12.0",
		"9223372036854775808": "9.223372036854775808e18", "0.05": "5.0e-2", "42.5": "42.5", "1000": "1000.0",
		"-0": "0.0", "-5": "-5.0", "1e3": "1000.0", "12345678": "1.2345678e7", "0.5": "0.5", "1.0e400": "1.0e400",
		"-2.5E-3": "-2.5e-3", "100.000": "100.0", "42.0": "42.0", "4.2e1": "42.0",
	} {
		if got := Scientific(in); got != want {
			t.Errorf("Scientific(%s) = %s, want %s", in, got, want)
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
