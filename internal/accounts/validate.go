package accounts

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/password"
)

// Bounds on profile fields.
const (
	MaxNameLength  = 100
	MaxImageLength = 2048
	maxEmailLength = 254 // RFC 5321's limit on a forward path
)

// argError is the validation error for argument arg of root field field.
func argError(field, arg, message string) *hasura.Error {
	return &hasura.Error{
		Code:    hasura.CodeValidationFailed,
		Message: message,
		Path:    hasura.FieldPath(field) + ".args." + arg,
	}
}

// normalizeEmail trims and lower-cases an email, so that one address is one
// account however it is typed, and checks that it is a bare address.
func normalizeEmail(field, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailLength {
		return "", argError(field, "email", "email must be an email address such as name@example.com")
	}
	return email, nil
}

// checkPassword checks the argument arg of field as a new password of the
// account with email (if known).
func checkPassword(field, arg, pw, email string) error {
	local, _, _ := strings.Cut(email, "@")
	if err := password.Check(pw, email, local); err != nil {
		return argError(field, arg, err.Error())
	}
	return nil
}

// normalizeName puts a display name in NFC, so one spelling is one string
// and its length is what the user sees, then trims it and checks it: 1 to
// MaxNameLength characters, no control or bidirectional control characters
// (which would corrupt or reorder the UI around it), and at least one visible
// character. A name of spaces only is empty; one of invisible characters only
// looks empty but is not, so it has its own message.
func normalizeName(field string, name *string) (*string, error) {
	if name == nil {
		return nil, nil
	}
	n := strings.TrimSpace(norm.NFC.String(*name))
	if n == "" {
		return nil, argError(field, "name", "name must be 1 to 100 characters")
	}
	n = strings.TrimFunc(n, func(r rune) bool { return unicode.IsSpace(r) || isZeroWidth(r) })
	if utf8.RuneCountInString(n) > MaxNameLength {
		return nil, argError(field, "name", "name must be 1 to 100 characters")
	}
	if strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return nil, argError(field, "name", "name must not contain control characters")
	}
	if strings.IndexFunc(n, isBidiControl) >= 0 {
		return nil, argError(field, "name", "name must not contain bidirectional control characters")
	}
	if strings.IndexFunc(n, isVisible) < 0 {
		return nil, argError(field, "name", "name must contain a visible character")
	}
	return &n, nil
}

// isZeroWidth reports the zero-width characters trimmed from a name's ends,
// where they can only hide text. Inside a name ZWJ and ZWNJ are kept: emoji
// sequences and scripts such as Persian and the Indic ones need them.
func isZeroWidth(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF':
		return true
	}
	return false
}

// isBidiControl reports the embeddings, overrides and isolates
// (U+202A–U+202E, U+2066–U+2069) and the bidi marks LRM, RLM and ALM
// (U+200E, U+200F, U+061C): all reorder the text around a name.
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069' ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// isVisible reports a letter, mark, number, punctuation or symbol that draws
// something. Not the default-ignorable ones among them (Hangul fillers such
// as U+3164 and U+115F, variation selectors), nor the braille blank U+2800.
func isVisible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) &&
		!unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) &&
		r != '\u2800'
}

// checkImage accepts an absolute http(s) URL of at most MaxImageLength bytes.
func checkImage(field string, image *string) error {
	if image == nil {
		return nil
	}
	bad := argError(field, "image", "image must be an absolute http or https URL of at most 2048 characters")
	s := *image
	if len(s) > MaxImageLength || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return bad
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return bad
	}
	return nil
}
