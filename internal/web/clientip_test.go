package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	cases := []struct {
		name, remote, xff, want string
	}{
		{"a direct client is its peer address", "192.0.2.7:5000", "", "192.0.2.7"},
		{"a direct client cannot forge X-Forwarded-For", "192.0.2.7:5000", "198.51.100.1", "192.0.2.7"},
		{"behind a trusted proxy the forwarded address counts", "10.1.2.3:443", "198.51.100.1", "198.51.100.1"},
		{"the last untrusted hop counts, not what the client wrote first", "10.1.2.3:443", "203.0.113.5, 198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"a malformed forwarded address stops at the proxy", "10.1.2.3:443", "garbage", "10.1.2.3"},
		{"IPv6 clients count by their /64", "[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{"an IPv4-mapped address is IPv4", "[::ffff:192.0.2.9]:80", "", "192.0.2.9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := s.clientIP(r); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
