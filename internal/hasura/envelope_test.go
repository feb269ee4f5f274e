package hasura

import (
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// sameAsEncodingJSON fails t unless the fast decoder's answer for body,
// when it gives one, is encoding/json's; it reports whether it gave one.
func sameAsEncodingJSON(t *testing.T, body string) bool {
	t.Helper()
	var fast graphql.RawParams
	if !decodeEnvelope([]byte(body), &fast) {
		return false
	}
	var want graphql.RawParams
	if err := decodeJSON([]byte(body), &want); err != nil {
		t.Fatalf("%q: the fast decoder took what encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("%q:\n fast %#v\n want %#v", body, fast, want)
	}
	return true
}

// What clients send is decoded in one pass, exactly as encoding/json does;
// what it would decode otherwise, or refuse, is left to it.
func TestEnvelopeDecoding(t *testing.T) {
	for _, body := range []string{
		`{"query":"{ session { user { id } } }"}`,
		`{"query":"query GetUser($userId: uuid!) {\n  users_by_pk(id: $userId) {\n    id\n  }\n}","variables":{"userId":"0b6f2a4e-8c1d-4f5e-9a7b-3c2d1e0f9a8b"},"operationName":"GetUser"}`,
		`{"operationName":null,"variables":null,"query":"{ a }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		` { "query" : "q" , "variables" : { "n" : -1.5e+3, "i": 0, "b": true, "f": false, "z": null, "l": [1, "two", [], {}], "u": "Jos\u00e9 \u4e16\\\/\"\b\f\r\t", "é": "ü" } } ` + "\n",
		`{"variables":{"a":1,"a":2},"query":"q"}`,
		`{}`,
	} {
		if !sameAsEncodingJSON(t, body) {
			t.Errorf("declined %q", body)
		}
	}
	for _, body := range []string{
		`{"Query":"q"}`, // encoding/json matches keys regardless of case
		`{"query":"a","query":"b"}`,
		`{"variables":{"a":1},"variables":{"b":2}}`, // merged by encoding/json
		`{"query":"q","other":1}`,
		`{"query":5}`,
		`{"variables":[1]}`,
		`{"query":"\ud83d\ude00"}`, // a surrogate pair
		"{\"query\":\"\xff\"}",
		"{\"query\":\"a\x01\"}",
		`{"query":"q"} {}`,
		`{"query":"q",}`,
		`{"variables":{"n":01}}`,
		`{"variables":{"n":1.}}`,
		`{"variables":{"n":-}}`,
		`{"query":"\x"}`,
		`{"query":"unterminated`,
		`[{"query":"q"}]`,
		`{"variables":` + deep(maxEnvelopeDepth+1) + `}`,
	} {
		if sameAsEncodingJSON(t, body) {
			t.Errorf("decoded %q, which encoding/json decodes otherwise or refuses", body)
		}
	}
}

func deep(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}

func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ a }","variables":{"x":[1,{"y":"z\n"}],"n":-0.5E-2},"operationName":"A","extensions":{}}`,
		`{"query":"\u00e9\\"}`, `{"variables":{"a":1,"a":{"b":null}}}`, `{"query":null}`, ` {} `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { sameAsEncodingJSON(t, body) })
}

// BenchmarkEnvelope decodes the seed's GetUser request both ways.
func BenchmarkEnvelope(b *testing.B) {
	body := []byte(`{"query":"query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id name email image emailVerified } }","variables":{"userId":"00000000-0000-4000-8000-000000000007"}}`)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var p graphql.RawParams
			if err := decodeParams(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var p graphql.RawParams
			if err := decodeJSON(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
