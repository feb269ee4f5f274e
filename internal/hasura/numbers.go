package hasura

import (
	"strconv"
	"strings"
)

// Decimal is a number's text split: its sign, its digits without leading
// zeros, and the exponent that places them, value = 0.digits × 10^exp.
type Decimal struct {
	Negative bool
	Digits   string
	Exp      int
}

// ParseDecimal reads JSON's number syntax (which GraphQL's shares).
func ParseDecimal(s string) (Decimal, bool) {
	var d Decimal
	if strings.HasPrefix(s, "-") {
		d.Negative, s = true, s[1:]
	}
	mantissa, exponent, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mantissa, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) {
		return d, false
	}
	e := 0
	if hasExp {
		sign := 1
		if rest, ok := strings.CutPrefix(exponent, "-"); ok {
			sign, exponent = -1, rest
		} else {
			exponent = strings.TrimPrefix(exponent, "+")
		}
		if exponent == "" || !allDigits(exponent) {
			return d, false
		}
		// An exponent of more than 9 digits is beyond every bound (or
		// makes zero of any fraction) as far as any type is concerned.
		exponent = strings.TrimLeft(exponent, "0")
		if len(exponent) > 9 {
			exponent = "999999999"
		}
		if exponent != "" {
			e, _ = strconv.Atoi(exponent)
		}
		e *= sign
	}
	digits := strings.TrimLeft(whole+frac, "0")
	lead := len(whole+frac) - len(digits)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return Decimal{}, true // zero
	}
	d.Digits = digits
	d.Exp = len(whole) - lead + e
	return d, true
}

// Scientific writes the number n as Haskell's Data.Scientific shows it,
// which Hasura's messages quote: fixed for exponents 0 to 7 (1000.0,
// 42.5, 0.5), else d.ddde<n> (2.147483648e9, 5.0e-2).
func Scientific(n string) string {
	d, ok := ParseDecimal(n)
	if !ok {
		return n
	}
	if d.Digits == "" {
		return "0.0"
	}
	sign := ""
	if d.Negative {
		sign = "-"
	}
	if d.Exp < 0 || d.Exp > 7 {
		rest := d.Digits[1:]
		if rest == "" {
			rest = "0"
		}
		return sign + d.Digits[:1] + "." + rest + "e" + strconv.Itoa(d.Exp-1)
	}
	if d.Exp == 0 {
		return sign + "0." + d.Digits
	}
	whole, frac := d.Digits, "0"
	if len(whole) > d.Exp {
		whole, frac = d.Digits[:d.Exp], d.Digits[d.Exp:]
	} else {
		whole += strings.Repeat("0", d.Exp-len(whole))
	}
	return sign + whole + "." + frac
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Integral is the number n as an integer's text when it is one (42.0 and
// 4.2e1 are 42, as Hasura's Scientific reads them) that fits in bits.
func Integral(n string, bits int) (string, bool) {
	d, ok := ParseDecimal(n)
	if !ok {
		return "", false
	}
	if d.Digits == "" {
		return "0", true
	}
	if d.Exp < len(d.Digits) || d.Exp > 20 {
		return "", false // a fraction, or more digits than any int64
	}
	text := d.Digits + strings.Repeat("0", d.Exp-len(d.Digits))
	if d.Negative {
		text = "-" + text
	}
	if _, err := strconv.ParseInt(text, 10, bits); err != nil {
		return "", false
	}
	return text, true
}

// AesonKind names a decoded JSON value's kind as aeson's parse failures
// do ("expected String, but encountered Number"), which Hasura's messages
// quote.
func AesonKind(v any) string {
	switch v.(type) {
	case nil:
		return "Null"
	case bool:
		return "Boolean"
	case string:
		return "String"
	case []any:
		return "Array"
	case map[string]any:
		return "Object"
	}
	return "Number"
}
