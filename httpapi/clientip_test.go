package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer, xff, want string
		trusted               bool
	}{
		{"no proxies configured: the peer, whatever the header", "10.1.2.3:5000", "203.0.113.5", "10.1.2.3", false},
		{"untrusted peer: its header is ignored", "198.51.100.1:5000", "203.0.113.5", "198.51.100.1", true},
		{"one trusted proxy", "10.1.2.3:5000", "203.0.113.5", "203.0.113.5", true},
		{"spoofed hops left of the real client are ignored", "10.1.2.3:5000", "1.2.3.4, 6.6.6.6, 203.0.113.5", "203.0.113.5", true},
		{"a chain of trusted proxies", "10.1.2.3:5000", "203.0.113.5, 192.168.1.7, 10.9.9.9", "203.0.113.5", true},
		{"every hop trusted: the leftmost", "10.1.2.3:5000", "10.0.0.1, 10.0.0.2", "10.0.0.1", true},
		{"no header", "10.1.2.3:5000", "", "10.1.2.3", true},
		{"garbage right of the client: the last trusted hop", "10.1.2.3:5000", "203.0.113.5, junk", "10.1.2.3", true},
		{"IPv6 client", "10.1.2.3:5000", "2001:db8::1", "2001:db8::1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			p := proxies
			if !tc.trusted {
				p = nil
			}
			if got := ClientAddress(r, p); got != tc.want {
				t.Errorf("ClientAddress = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "1.2.3"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
}
