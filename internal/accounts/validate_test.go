package accounts

import (
	"errors"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

func TestNormalizeName(t *testing.T) {
	const (
		length    = "name must be 1 to 100 characters"
		control   = "name must not contain control characters"
		bidi      = "name must not contain bidirectional control characters"
		invisible = "name must contain a visible character"
	)
	for _, tt := range []struct {
		in, want, err string
	}{
		{in: "Alice", want: "Alice"},
		{in: "  Alice  ", want: "Alice"},
		{in: "\u3000Alice\u00a0", want: "Alice"},
		{in: "\ufeff\u200bAlice\u200d\u2060 ", want: "Alice"},
		{in: "\u200b Alice \u200c", want: "Alice"},
		{in: "Jo\u200dhn", want: "Jo\u200dhn"}, // inside a name, joiners stay
		{in: "👨\u200d👩\u200d👧", want: "👨\u200d👩\u200d👧"},
		{in: "e\u0301", want: "\u00e9"},
		{in: "Zoe\u0308 Ange\u0301lique", want: "Zoë Angélique"},
		{in: strings.Repeat("e\u0301", 100), want: strings.Repeat("\u00e9", 100)},
		{in: strings.Repeat("a", 100), want: strings.Repeat("a", 100)},
		{in: "A\u3000B", want: "A\u3000B"},
		{in: "\u0301", want: "\u0301"}, // a lone mark still draws
		{in: "李", want: "李"},
		{in: "1", want: "1"},
		{in: "!", want: "!"},
		{in: "\u3164A", want: "\u3164A"},

		{in: "", err: length},
		{in: "   ", err: length},
		{in: "\u00a0", err: length},
		{in: "\u3000\u3000", err: length},
		{in: strings.Repeat("a", 101), err: length},
		{in: strings.Repeat("e\u0301", 101), err: length},
		{in: strings.Repeat("\u00e9", 101), err: length},
		{in: "tab\there", err: control},
		{in: "nul\x00", err: control},
		{in: "del\u007f", err: control},
		{in: "a\u0085b", err: control},
		{in: "a\u202ab", err: bidi},
		{in: "a\u202bb", err: bidi},
		{in: "a\u202cb", err: bidi},
		{in: "a\u202db", err: bidi},
		{in: "evil\u202efdp.exe", err: bidi},
		{in: "a\u2066b", err: bidi},
		{in: "a\u2069b", err: bidi},
		{in: "a\u200eb", err: bidi},
		{in: "a\u200fb", err: bidi},
		{in: "a\u061cb", err: bidi},
		{in: "\u202e", err: bidi},
		{in: "Alice\u200f", err: bidi}, // not trimmed away: refused
		{in: "\u200b", err: invisible},
		{in: "\u200b\u200c\u200d\u2060\ufeff", err: invisible},
		{in: " \u200b \u200d ", err: invisible},
		{in: "\u2800", err: invisible},
		{in: "\u3164", err: invisible},
		{in: "\u115f\u1160", err: invisible},
		{in: "\uffa0", err: invisible},
		{in: "\u034f", err: invisible},
		{in: "\ufe0f", err: invisible},
		{in: "\u00ad", err: invisible},
		{in: "\u2800\u3000\u2800", err: invisible},
	} {
		in := tt.in
		got, err := normalizeName("updateUserProfile", &in)
		if tt.err != "" {
			var he *hasura.Error
			if !errors.As(err, &he) {
				t.Errorf("%+q: got %v, %v; want error %q", tt.in, got, err, tt.err)
				continue
			}
			want := hasura.Error{Code: hasura.CodeValidationFailed, Message: tt.err, Path: "$.selectionSet.updateUserProfile.args.name"}
			if *he != want || got != nil {
				t.Errorf("%+q: got %v, %+v; want %+v", tt.in, got, *he, want)
			}
			continue
		}
		if err != nil || got == nil || *got != tt.want {
			t.Errorf("%+q: got %v, %v; want %+q", tt.in, got, err, tt.want)
		}
	}
	if got, err := normalizeName("signUp", nil); got != nil || err != nil {
		t.Errorf("nil name: got %v, %v; want nil, nil", got, err)
	}
	in := "\u202e"
	var he *hasura.Error
	if _, err := normalizeName("signUp", &in); !errors.As(err, &he) || he.Path != "$.selectionSet.signUp.args.name" {
		t.Errorf("signUp's error %v names the wrong path", err)
	}
}
