package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/codestory/analytics/auth"
)

// ParseTrustedProxies reads --trusted-proxies: comma-separated CIDRs or
// single addresses (e.g. "10.0.0.0/8,192.168.1.7").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither a CIDR (10.0.0.0/8) nor an address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

type clientIPKey struct{}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddress finds the client of r. The TCP peer is the client unless it
// is a trusted proxy; then X-Forwarded-For is read from the right, skipping
// trusted proxies, and the first untrusted hop is the client: everything to
// its left was written by the client itself and is not believed.
func ClientAddress(r *http.Request, proxies []netip.Prefix) string {
	peer := peerIP(r)
	a, err := netip.ParseAddr(peer)
	if err != nil || len(proxies) == 0 || !trusted(a, proxies) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := a.Unmap().String()
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		ha, err := netip.ParseAddr(h)
		if err != nil {
			// Not written by a proxy we trust: keep the last trusted hop.
			return client
		}
		client = ha.Unmap().String()
		if !trusted(ha, proxies) {
			return client
		}
	}
	return client
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientIP is the request's client address as the server determined it
// (see ClientAddress and --trusted-proxies).
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return peerIP(r)
}

// withClientIP records the client address of r for every handler.
func (s *Server) withClientIP(r *http.Request) *http.Request {
	if len(s.TrustedProxies) == 0 {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ClientAddress(r, s.TrustedProxies)))
}

// DeviceCookie marks a browser that logged in successfully before (see
// auth.LoginGate): its logins get through a flood of failures on its
// account. It is sent to /login only.
const DeviceCookie = "codestory_device"

func setDeviceCookie(w http.ResponseWriter, r *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: value, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		MaxAge: int(auth.DeviceTTL.Seconds())})
}
