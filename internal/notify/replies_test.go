package notify

import (
	"strings"
	"testing"
)

// TestReplyAddresses reads back what it writes, whatever the case, and
// refuses every other address.
func TestReplyAddresses(t *testing.T) {
	r, err := NewReplies("Reply@Reply.Pocdir.Example")
	if err != nil {
		t.Fatal(err)
	}
	token, hash := NewReplyToken()
	if HashReplyToken(strings.ToUpper(token)) != hash {
		t.Error("a token in upper case has another hash")
	}
	for _, c := range []struct {
		addr   string
		token  string
		bounce int64
		ok     bool
	}{
		{r.To(token), token, 0, true},
		{"<" + strings.ToUpper(r.To(token)) + ">", token, 0, true},
		{r.Bounce(42), "", 42, true},
		{"reply@reply.pocdir.example", "", 0, false},
		{"reply+" + token + "@elsewhere.example", "", 0, false},
		{"other+" + token + "@reply.pocdir.example", "", 0, false},
		{"reply+short@reply.pocdir.example", "", 0, false},
		{"reply+bounce-x@reply.pocdir.example", "", 0, false},
		{"reply+bounce--1@reply.pocdir.example", "", 0, false},
		{"", "", 0, false},
	} {
		tok, b, ok := r.Parse(c.addr)
		if ok != c.ok || b != c.bounce || tok != strings.ToLower(c.token) {
			t.Errorf("%q: got %q %d %v", c.addr, tok, b, ok)
		}
	}
	for _, bad := range []string{"not an address", "a+b@example.org", "@example.org"} {
		if _, err := NewReplies(bad); err == nil {
			t.Errorf("%q accepted as the reply address", bad)
		}
	}
}

// FuzzReplyAddress feeds the address reader any recipient an SMTP client
// may give: it never panics, and what it accepts has the form it issues.
//
//	go test -run '^$' -fuzz FuzzReplyAddress -fuzztime 30s ./internal/notify/
func FuzzReplyAddress(f *testing.F) {
	r, _ := NewReplies("reply@reply.pocdir.example")
	token, _ := NewReplyToken()
	for _, s := range []string{r.To(token), r.Bounce(7), "reply+bounce-99999999999999999999@reply.pocdir.example", "<>", "@", "reply+@reply.pocdir.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		tok, b, ok := r.Parse(addr)
		if !ok {
			return
		}
		if b > 0 && tok == "" {
			return
		}
		if !ValidReplyToken(tok) || b != 0 {
			t.Fatalf("%q accepted as %q %d", addr, tok, b)
		}
	})
}
