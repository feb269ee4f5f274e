// Package webhook is what freshgraph's calls to an app's handlers share
// (Actions, event and cron triggers): their URL and headers, resolved from
// the environment as Hasura resolves them, and the HTTP client.
package webhook

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// envTemplate is Hasura's {{VAR}} in a webhook's or handler's URL.
var envTemplate = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Resolve is url with its {{VAR}}s replaced from the environment,
// and headers' values (value, or value_from_env); what names a variable
// that is not set is an error (which names the variables, in Hasura's
// words, never a value).
func Resolve(url string, headers []metadata.Header, getenv func(string) string) (string, http.Header, error) {
	var missing []string
	url = envTemplate.ReplaceAllStringFunc(url, func(m string) string {
		name := envTemplate.FindStringSubmatch(m)[1]
		v := getenv(name)
		if v == "" && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("URL: value for environment variables not found: %s", strings.Join(missing, ", "))
	}
	h := http.Header{}
	for _, hd := range headers {
		v := hd.Value
		if hd.ValueFromEnv != "" {
			if v = getenv(hd.ValueFromEnv); v == "" {
				return "", nil, fmt.Errorf("header %s: value_from_env: environment variable %s is not set", hd.Name, hd.ValueFromEnv)
			}
		}
		h.Add(hd.Name, v)
	}
	return url, h, nil
}

// NewClient is an HTTP client for handlers: at most maxConns connections
// to a host (0: no bound), redirects not followed (a handler's URL is where its calls
// go, not where its answer points), and no timeout of its own (each call
// has its own); each call traced by tracer (nil: not traced).
func NewClient(maxConns int, tracer *tracing.Tracer) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxConnsPerHost = maxConns
	transport.MaxIdleConnsPerHost = maxConns
	return &http.Client{
		Transport:     tracer.Transport(transport),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
