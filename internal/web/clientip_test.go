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
		// more are further X-Forwarded-For lines, as haproxy's
		// "option forwardfor" appends its own after the client's.
		more []string
	}{
		{"a direct client is its peer address", "192.0.2.7:5000", "", "192.0.2.7", nil},
		{"a direct client cannot forge X-Forwarded-For", "192.0.2.7:5000", "198.51.100.1", "192.0.2.7", nil},
		{"behind a trusted proxy the forwarded address counts", "10.1.2.3:443", "198.51.100.1", "198.51.100.1", nil},
		{"the last untrusted hop counts, not what the client wrote first", "10.1.2.3:443", "203.0.113.5, 198.51.100.1, 10.9.9.9", "198.51.100.1", nil},
		{"a malformed forwarded address stops at the proxy", "10.1.2.3:443", "garbage", "10.1.2.3", nil},
		{"IPv6 clients count by their /64", "[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64", nil},
		{"a forged first line does not count where a proxy added its own line", "10.1.2.3:443", "203.0.113.66", "198.51.100.1", []string{"198.51.100.1"}},
		{"lines are read in order, then from the right through the trusted proxies", "10.1.2.3:443", "203.0.113.66, 10.9.9.9", "198.51.100.1",
			[]string{"198.51.100.1, 10.5.5.5"}},
		{"an IPv4-mapped address is IPv4", "[::ffff:192.0.2.9]:80", "", "192.0.2.9", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			for _, m := range c.more {
				r.Header.Add("X-Forwarded-For", m)
			}
			if got := s.clientIP(r); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
