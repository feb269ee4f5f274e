package accounts

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

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

func checkPassword(field, pw string) error {
	if err := password.CheckLength(pw); err != nil {
		return argError(field, "password", err.Error())
	}
	return nil
}

// normalizeName trims a display name and checks its length (in characters)
// and that it holds no control characters, which would corrupt the UI.
func normalizeName(field string, name *string) (*string, error) {
	if name == nil {
		return nil, nil
	}
	n := strings.TrimSpace(*name)
	if l := utf8.RuneCountInString(n); l < 1 || l > MaxNameLength {
		return nil, argError(field, "name", "name must be 1 to 100 characters")
	}
	if strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return nil, argError(field, "name", "name must not contain control characters")
	}
	return &n, nil
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
