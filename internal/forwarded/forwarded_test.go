package forwarded

import (
	"net/http"
	"testing"
)

func TestClient(t *testing.T) {
	proxies, err := Parse("10.0.0.0/8, 192.168.1.5,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer, xff string
		vouched   bool
		proxies   Proxies
		want      string
	}{
		{"203.0.113.9:5000", "", false, proxies, "203.0.113.9"},
		// Only a trusted proxy may name the client.
		{"203.0.113.9:5000", "198.51.100.1", false, proxies, "203.0.113.9"},
		{"10.1.2.3:5000", "198.51.100.1", false, proxies, "198.51.100.1"},
		// What a client sends is left of what the proxies append: passed over.
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.1", false, proxies, "198.51.100.1"},
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.1, 192.168.1.5", false, proxies, "198.51.100.1"},
		{"10.1.2.3:5000", "6.6.6.6", false, nil, "10.1.2.3"},
		// Several headers are one list; ports and IPv6 as proxies write them.
		{"[fd00::1]:443", "198.51.100.1:4711", false, proxies, "198.51.100.1"},
		{"10.1.2.3:5000", "2001:db8::7", false, proxies, "2001:db8::7"},
		{"[::ffff:10.1.2.3]:5000", "[2001:db8::7]:80", false, proxies, "2001:db8::7"},
		// A forwarded hop that is no address: the peer.
		{"10.1.2.3:5000", "not-an-address", false, proxies, "10.1.2.3"},
		// A request with the admin secret names the user it speaks for,
		// with no proxy trusted, or behind trusted ones.
		{"203.0.113.9:5000", "198.51.100.1", true, nil, "198.51.100.1"},
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.9", true, proxies, "198.51.100.1"},
		{"203.0.113.9:5000", "", true, nil, "203.0.113.9"},
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		if c.xff != "" {
			r.Header["X-Forwarded-For"] = []string{c.xff}
		}
		if got := c.proxies.Client(r, c.vouched); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q, vouched %v: %s, want %s", c.peer, c.xff, c.vouched, got, c.want)
		}
	}
	if _, err := Parse("10.0.0.0/8, nope"); err == nil {
		t.Error("a list with an item that is no address parsed")
	}
}
