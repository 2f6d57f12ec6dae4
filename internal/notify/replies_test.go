package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
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
	legacy := tokenEncoding.EncodeToString(make([]byte, replyTokenBytes))
	if tok, _, ok := r.Parse(r.To(legacy)); !ok || tok != legacy {
		t.Errorf("a token of the earlier form (%q) is refused", legacy)
	}
	if long := strings.Repeat("r", 23) + "@reply.pocdir.example"; mustReplies(t, long).To(token) != strings.Repeat("r", 23)+"+"+token+"@reply.pocdir.example" {
		t.Errorf("a part before the @ of 23 characters")
	}
	for _, bad := range []string{"not an address", "a+b@example.org", "@example.org", strings.Repeat("r", 24) + "@reply.pocdir.example"} {
		if _, err := NewReplies(bad); err == nil {
			t.Errorf("%q accepted as the reply address", bad)
		}
	}
}

func mustReplies(t *testing.T, address string) *Replies {
	t.Helper()
	r, err := NewReplies(address)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReplyTokenHashes: a token is 160 random bits after the second it was
// made, and what is stored begins with that second, so that the stored
// hashes of a burst sit together at the end of their index; a token of the
// earlier form (32 characters, random) keeps the hash it was stored under.
func TestReplyTokenHashes(t *testing.T) {
	before := time.Now().Unix()
	token, hash := NewReplyToken()
	after := time.Now().Unix()
	if len(token) != 40 || !ValidReplyToken(token) {
		t.Fatalf("token %q", token)
	}
	sum := sha256.Sum256([]byte(token))
	if !strings.HasSuffix(hash, hex.EncodeToString(sum[:])) || len(hash) != 10+64 {
		t.Fatalf("hash %q of %q is not its second then its SHA-256", hash, token)
	}
	if made := hash[:10]; made < fmt.Sprintf("%010x", before) || made > fmt.Sprintf("%010x", after) {
		t.Errorf("hash %q does not begin with the second it was made (%d to %d)", hash, before, after)
	}
	if HashReplyToken(strings.ToUpper(token)) != hash {
		t.Error("a token in upper case has another hash")
	}
	seen := map[string]bool{}
	for range 1000 {
		tok, _ := NewReplyToken()
		if seen[tok[tokenTimeChars:]] {
			t.Fatalf("the random part of %q came twice", tok)
		}
		seen[tok[tokenTimeChars:]] = true
	}
	legacy := strings.Repeat("ab", 16)
	old := sha256.Sum256([]byte(legacy))
	if !ValidReplyToken(legacy) || HashReplyToken(strings.ToUpper(legacy)) != hex.EncodeToString(old[:]) {
		t.Errorf("a token of the earlier form is not read as before: %q", HashReplyToken(legacy))
	}
	for _, bad := range []string{"", strings.Repeat("a", 39), strings.Repeat("a", 41), strings.Repeat("a", 31), strings.Repeat("1", 40), strings.Repeat("a", 39) + "!"} {
		if ValidReplyToken(bad) {
			t.Errorf("%q taken for a token", bad)
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
	for _, s := range []string{r.To(token), r.To(strings.Repeat("a", 32)), r.Bounce(7), "reply+bounce-99999999999999999999@reply.pocdir.example", "<>", "@", "reply+@reply.pocdir.example"} {
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
		if h := HashReplyToken(tok); len(h) != 64 && len(h) != 74 {
			t.Fatalf("%q: hash %q", tok, h)
		}
	})
}
