package engine

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// jsonPath parses the path argument of a json or jsonb column's field into
// the keys of PostgreSQL's #> operator (array indexes as their digits). The
// grammar and the error are Hasura's (Data.Parser.JSONPath): an optional $,
// then one or more of .key (a letter or _ first, then letters, digits, _
// and -), [42], ["key"] or ['key']; "$" alone is the whole value.
func jsonPath(text string) ([]string, error) {
	invalid := errors.New(text + `. Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket (["..."]) if there is any special character`)
	if text == "$" {
		return nil, nil
	}
	rest := strings.TrimPrefix(text, "$")
	var keys []string
	for rest != "" {
		key, after, ok := pathElement(rest)
		if !ok {
			return nil, invalid
		}
		keys = append(keys, key)
		rest = after
	}
	if len(keys) == 0 {
		return nil, invalid
	}
	return keys, nil
}

// pathElement reads one element at the start of s.
func pathElement(s string) (key, rest string, ok bool) {
	s = strings.TrimPrefix(s, ".")
	if !strings.HasPrefix(s, "[") {
		end := 0
		for i, r := range s {
			first := i == 0
			if unicode.IsLetter(r) || r == '_' || !first && (r >= '0' && r <= '9' || r == '-') {
				end = i + len(string(r))
				continue
			}
			break
		}
		return s[:end], s[end:], end > 0
	}
	s = s[1:]
	if n := len(s) - len(strings.TrimLeft(s, "0123456789")); n > 0 {
		if !strings.HasPrefix(s[n:], "]") {
			return "", "", false
		}
		index, err := strconv.ParseUint(s[:n], 10, 63)
		if err != nil {
			return "", "", false
		}
		return strconv.FormatUint(index, 10), s[n+1:], true
	}
	if s == "" || s[0] != '"' && s[0] != '\'' {
		return "", "", false
	}
	quote := s[0]
	var raw strings.Builder
	for i := 1; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s):
			if quote == '\'' && s[i+1] == '\'' {
				raw.WriteByte('\'')
			} else {
				raw.WriteString(s[i : i+2])
			}
			i++
		case ch == quote:
			if !strings.HasPrefix(s[i+1:], "]") {
				return "", "", false
			}
			var key string
			if json.Unmarshal([]byte(`"`+raw.String()+`"`), &key) != nil {
				return "", "", false
			}
			return key, s[i+2:], true
		case ch == '"': // inside single quotes, a plain character
			raw.WriteString(`\"`)
		default:
			raw.WriteByte(ch)
		}
	}
	return "", "", false
}
