package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
)

// reference says, the slow way, whether a JSON document holds what the
// strict reader refuses: it decodes the document token by token, compares
// the keys of each object without case, and looks at the decoded strings.
// It cannot see a lone surrogate escape (encoding/json has already made it
// U+FFFD): on documents with an escaped surrogate it gives no answer.
func reference(doc []byte) (refuse, known bool) {
	if !utf8.Valid(doc) {
		return true, true
	}
	if bytes.Contains(bytes.ToLower(doc), []byte(`\ud`)) {
		return false, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	type level struct {
		object bool
		keys   map[string]bool
		key    bool // the next string is a key
	}
	var stack []*level
	// valueDone marks the end of a value: in an object, a key comes next.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false, true
		}
		if err != nil {
			return false, false // not JSON: the decoder's own error
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) >= maxDepth {
					return true, true
				}
				stack = append(stack, &level{object: v == '{', keys: map[string]bool{}, key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		case string:
			for _, r := range v {
				if app.IsControl(r) {
					return true, true
				}
			}
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
				top := stack[n-1]
				f := foldKey(v)
				if top.keys[f] || len(v) > maxKey {
					return true, true
				}
				top.keys[f] = true
				top.key = false
				continue
			}
		}
		valueDone()
	}
}

// FuzzStrictJSON: on every valid JSON document the strict reader refuses
// exactly what the reference finds, passes the bytes through unchanged, and
// never panics on anything.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[1,2,{"a":2}]}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"k":"\u212a","K":1}`,
		`{"s":"\ud83d\ude00"}`, `{"s":"\ud800"}`, `{"s":"\udc00"}`, `{"s":"\u0000"}`, "{\"s\":\"\xff\"}",
		`{"a":{"b":{"c":[]}},"b":1}`, `{"a":{},"a":1}`, `{"a":[{"x":1}],"b":{"x":2,"y":[]},"c":3}`, `[[[[[]]]]]`, `{"x":"\\\"","y":"\/"}`, `"just a string"`, `{"a":"é","é":"a"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var out bytes.Buffer
		_, err := io.Copy(&out, newStrictReader(bytes.NewReader(doc)))
		var ae *app.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("an error that is not the API's: %v", err)
		}
		if err == nil && !bytes.Equal(out.Bytes(), doc) {
			t.Fatalf("the bytes changed: %q -> %q", doc, out.Bytes())
		}
		if !json.Valid(doc) {
			return
		}
		refuse, known := reference(doc)
		if known && refuse != (err != nil) {
			t.Fatalf("%q: strict reader says %v, the reference says refuse=%v", doc, err, refuse)
		}
	})
}

func TestStrictReaderAcrossReads(t *testing.T) {
	// A multi-byte character and an escape cut by the reads are read whole.
	doc := `{"agency":"Ministère \u00e9 \ud83d\ude00 ` + strings.Repeat("x", 10) + `"}`
	r := newStrictReader(&oneByte{strings.NewReader(doc)})
	b, err := io.ReadAll(r)
	if err != nil || string(b) != doc {
		t.Fatalf("%v %q", err, b)
	}
	r = newStrictReader(&oneByte{strings.NewReader(`{"a":"x` + "\xc3")})
	if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("a character cut at the end: %v", err)
	}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }
