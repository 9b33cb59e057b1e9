package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// parseNetworks reads a credential's networks: CIDR prefixes
// (10.0.0.0/8, 2001:db8::/32) or single addresses. It reports every bad
// entry.
func parseNetworks(list []string) ([]netip.Prefix, []error) {
	var (
		out  []netip.Prefix
		errs []error
	)
	for i, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("networks[%d]: %q is not a CIDR prefix such as 10.0.0.0/8", i, s))
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("networks[%d]: %q is not a CIDR prefix such as 10.0.0.0/8 or an IP address", i, s))
			continue
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, errs
}

// remoteIP is the address the request came from: the peer of the TCP
// connection (r.RemoteAddr). Forwarding headers are not believed, so
// behind a reverse proxy every request comes from the proxy; restrict
// credentials to networks only when the bridge sees callers directly or
// the proxy's own address is what should be allowed. The zero Addr means
// unknown.
func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// allowedFrom reports whether a credential restricted to nets may be used
// from a. No networks means anywhere; an unknown address is allowed
// nowhere else.
func allowedFrom(nets []netip.Prefix, a netip.Addr) bool {
	if len(nets) == 0 {
		return true
	}
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
