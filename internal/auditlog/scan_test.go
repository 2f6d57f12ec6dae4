package auditlog

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// checkScan fails when scanFields accepts data on which Decode fails or
// gives other States or another commitment.
func checkScan(t testing.TB, data []byte) bool {
	var f scanned
	if !scanFields(data, &f) {
		return false
	}
	ev, err := Decode(data)
	if err != nil {
		t.Fatalf("scanFields accepts %q, which Decode refuses: %v", data, err)
	}
	var got []string
	for _, s := range f.states {
		got = append(got, string(s))
	}
	if statesColumn(got) != statesColumn(ev.States) || string(f.commitment) != ev.Commitment {
		t.Fatalf("%q: scanFields gives %q and %q, Decode %q and %q", data, got, f.commitment, ev.States, ev.Commitment)
	}
	return true
}

func scanEvents() []Event {
	at := time.Date(2026, 2, 28, 23, 59, 59, 123456000, time.UTC)
	return []Event{
		{Type: "login", ActorEmail: "a@b.example", At: at},
		{Type: "directory.poc.update", ActorID: 12, ActorEmail: "fp@fra.example", ActorState: "FRA", Object: "poc:3",
			States: []string{"FRA", "KEN"}, At: at.Add(time.Hour), Commitment: Commit("salt", "content")},
		{Type: "x", ActorID: -5, ActorEmail: `quote " and <tag> & \ back`, Object: "o", States: []string{"A\"B"}, At: at.Truncate(time.Second)},
		{Type: "ünïcode", ActorEmail: "名前@example.org", States: []string{"ÉTAT", ""}, At: at, Commitment: "c"},
		{Type: "t", ActorEmail: "line\nbreak", States: []string{"FRA"}, At: at},
	}
}

func TestScanFieldsAgreesWithDecode(t *testing.T) {
	accepted := 0
	for _, ev := range scanEvents() {
		data := Encode(ev)
		if checkScan(t, data) {
			accepted++
		}
		// Every single-byte change, deletion and insertion of a few
		// bytes that matter in JSON.
		rng := rand.New(rand.NewPCG(1, uint64(len(data))))
		for i := range data {
			for _, c := range []byte{'"', '\\', ',', ':', '[', ']', '{', '}', '0', '9', 'a', ' ', 0x01, 0xff, '-', 'Z', '.'} {
				b := []byte(string(data))
				b[i] = c
				checkScan(t, b)
				ins := []byte(string(data[:i]) + string(c) + string(data[i:]))
				checkScan(t, ins)
			}
			del := []byte(string(data[:i]) + string(data[i+1:]))
			checkScan(t, del)
			j := rng.IntN(len(data))
			sw := []byte(string(data))
			sw[i], sw[j] = sw[j], sw[i]
			checkScan(t, sw)
		}
	}
	if accepted < 3 {
		t.Errorf("scanFields accepts %d of the plain encodings", accepted)
	}
	for _, s := range []string{
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":[],"at":"2026-02-29T00:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":[],"at":"2024-02-29T24:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":[],"at":"2024-02-29T00:00:60Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor_id":99999999999999999999,"actor":"a","object":"o","states":[],"at":"2024-02-29T00:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":["A","B"],"at":"2024-02-29T00:00:00.1234567891Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":["\xff"],"at":"2024-02-29T00:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":["A"],"states":["B"],"at":"2024-02-29T00:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","States":["A"],"at":"2024-02-29T00:00:00Z"}`,
		`{"v":"pocdir-log/1","type":"t","actor":"a","object":"o","states":["A"],"at":"2024-02-29T00:00:00Z"} `,
	} {
		checkScan(t, []byte(s))
	}
}

func FuzzScanFields(f *testing.F) {
	for _, ev := range scanEvents() {
		f.Add(Encode(ev))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

// TestScanAuthenticAgreesWithDecode checks scanAuthentic on what Encode
// writes, with strings made of the characters that matter to it.
func TestScanAuthenticAgreesWithDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	parts := []string{`,"states":[`, `"`, `,`, `]`, `[`, `:`, `}`, `,"at":"`, `,"commitment":"`, "a", "é", "<", "\\", " ", "FRA", "\u2028", "\xff"}
	word := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	// Fields before the States that hold what the end of an entry looks
	// like, escaped by Encode: they are not read.
	decoy := Event{Type: "t", ActorEmail: `a","states":["KEN"],"at":"x"}`, Object: `o"],"at":"2020-01-01T00:00:00Z","commitment":"c"}`,
		States: []string{"FRA"}, At: time.Unix(0, 0)}
	var f scanned
	if !scanAuthentic(Encode(decoy), &f) || len(f.states) != 1 || string(f.states[0]) != "FRA" || f.commitment != nil {
		t.Errorf("%s: scanAuthentic gives %q and %q", Encode(decoy), f.states, f.commitment)
	}
	accepted := 0
	for i := range 20000 {
		ev := Event{Type: word(), ActorID: rng.Int64N(3) - 1, ActorEmail: word(), ActorState: word(), Object: word(),
			At: time.Unix(rng.Int64N(1<<32), rng.Int64N(1e9)), Commitment: word()}
		for range rng.IntN(3) {
			ev.States = append(ev.States, word())
		}
		data := Encode(ev)
		var f scanned
		if !scanAuthentic(data, &f) {
			continue
		}
		accepted++
		want, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range f.states {
			got = append(got, string(s))
		}
		if statesColumn(got) != statesColumn(want.States) || string(f.commitment) != want.Commitment {
			t.Fatalf("event %d, %q: scanAuthentic gives %q and %q, Decode %q and %q", i, data, got, f.commitment, want.States, want.Commitment)
		}
	}
	if accepted < 200 {
		t.Errorf("scanAuthentic accepts only %d encodings", accepted)
	}
}

// TestStrBack compares strBack, which skips eight bytes at a time, with a
// byte-by-byte reading.
func TestStrBack(t *testing.T) {
	naive := func(p []byte) (s, rest []byte, ok bool) {
		if len(p) == 0 || p[len(p)-1] != '"' {
			return nil, p, false
		}
		for i := len(p) - 2; i >= 0; i-- {
			if p[i] == '\\' {
				return nil, p, false
			}
			if p[i] == '"' {
				return p[i+1 : len(p)-1], p[:i], true
			}
		}
		return nil, p, false
	}
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{'"', '\\', 'a', 'b' + 0x80, '"' + 0x80, '\\' - 1, 0}
	for range 200000 {
		p := make([]byte, rng.IntN(40))
		for i := range p {
			if rng.IntN(6) == 0 {
				p[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				p[i] = 'a'
			}
		}
		if rng.IntN(2) == 0 && len(p) > 0 {
			p[len(p)-1] = '"'
		}
		s, rest, ok := strBack(p)
		ws, wrest, wok := naive(p)
		if ok != wok || string(s) != string(ws) || string(rest) != string(wrest) {
			t.Fatalf("%q: strBack gives %q %q %v, want %q %q %v", p, s, rest, ok, ws, wrest, wok)
		}
	}
}
