// Package forwarded tells where a request comes from: the TCP peer, or,
// behind proxies the operator trusts (TRUSTED_PROXIES), the client their
// X-Forwarded-For names. From anyone else X-Forwarded-For is ignored: any
// client can send one.
package forwarded

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the addresses trusted to name a request's client.
type Proxies []netip.Prefix

// Parse reads a comma-separated list of CIDRs or addresses
// ("10.0.0.0/8, 192.168.1.5, fd00::/8").
func Parse(list string) (Proxies, error) {
	var out Proxies
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (p Proxies) trusts(addr string) bool {
	a, ok := address(addr)
	if !ok {
		return false
	}
	for _, prefix := range p {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// Client is the address r comes from. Walking back from the TCP peer
// through X-Forwarded-For, every trusted proxy is passed over: the first
// address that is not one is the client. vouched says the request itself
// is trusted (it carries the admin secret: an app server's, signing its
// users in), so it may name one more hop, the address it speaks for.
func (p Proxies) Client(r *http.Request, vouched bool) string {
	hops := []string{Peer(r.RemoteAddr)}
	if (len(p) > 0 || vouched) && len(r.Header["X-Forwarded-For"]) > 0 {
		var forwarded []string
		for _, h := range r.Header["X-Forwarded-For"] {
			for _, a := range strings.Split(h, ",") {
				forwarded = append(forwarded, strings.TrimSpace(a))
			}
		}
		hops = append(forwarded, hops...)
	}
	i := len(hops) - 1
	for i > 0 && p.trusts(hops[i]) {
		i--
	}
	if vouched && i > 0 {
		i--
	}
	if a, ok := address(hops[i]); ok {
		return a.String()
	}
	return hops[len(hops)-1] // a forwarded hop that is no address: the peer
}

// address reads an address as proxies write it: 192.0.2.1, 2001:db8::1,
// with a port or not (192.0.2.1:4711, [2001:db8::1]:4711).
func address(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// Peer is the host of a request's RemoteAddr: its TCP peer.
func Peer(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
