package api

import (
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
)

// strictReader passes a JSON body to the decoder and stops it at the first
// thing that encoding/json would take silently: bytes that are not UTF-8
// and lone surrogate escapes (both become U+FFFD), a NUL or another control
// character in a string, and a key that appears twice in one object (the
// last one wins). It reads as the decoder reads, so the body is never held
// twice; its error carries the byte where the problem is.
//
// It does not check the JSON grammar, which the decoder does: on a body
// that is not JSON it may stop first, with its own reason, or not at all.
type strictReader struct {
	r      io.Reader
	err    *app.Error
	offset int // bytes read so far

	carry  []byte // the start of a UTF-8 sequence cut by a read
	state  int
	hex    int // \u escape: hex digits read
	code   rune
	high   rune // a high surrogate waiting for its low half
	stack  []frame
	key    []byte // the key being read, decoded
	inKey  bool
	keyEnd bool // the key is longer than maxKey: it is refused
}

type frame struct {
	object    bool
	expectKey bool
	keys      map[string]struct{}
}

const (
	outside = iota
	inString
	inEscape
	inUnicode
)

// maxKey is the longest object key the API reads: every key it knows is
// far shorter, and a longer one is not read into memory to be refused.
const maxKey = 256

// maxDepth is how deeply objects and arrays may nest.
const maxDepth = 64

func newStrictReader(r io.Reader) *strictReader { return &strictReader{r: r} }

func (s *strictReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	for i := 0; i < n; i++ {
		// The plain characters of a value (most of a body: attachments in
		// base64) need no look.
		if s.state == inString && !s.inKey && s.high == 0 && len(s.carry) == 0 {
			j := i
			for j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\' {
				j++
			}
			s.offset += j - i
			if i = j; i == n {
				break
			}
		}
		s.byte(p[i])
		if s.err != nil {
			// The decoder must not see the bytes past the problem, nor
			// finish on what it read before it.
			return 0, s.err
		}
	}
	if err == io.EOF && len(s.carry) > 0 {
		s.fail("error.text_utf8", "the body is not valid UTF-8 (a character cut at its end)", nil)
		return 0, s.err
	}
	return n, err
}

func (s *strictReader) fail(key, msg string, args map[string]any) {
	if args == nil {
		args = map[string]any{}
	}
	args["At"] = s.offset
	s.err = &app.Error{Code: app.Invalid, Key: key, Message: fmt.Sprintf("%s at byte %d", msg, s.offset), Args: args}
}

func (s *strictReader) byte(b byte) {
	s.offset++
	if b >= 0x80 || len(s.carry) > 0 {
		s.carry = append(s.carry, b)
		if !utf8.FullRune(s.carry) {
			return
		}
		r, size := utf8.DecodeRune(s.carry)
		if r == utf8.RuneError && size <= 1 {
			s.fail("error.text_utf8", "the body is not valid UTF-8", nil)
			return
		}
		s.carry = s.carry[:0]
		if s.state == inString {
			if s.high != 0 {
				s.fail("error.json_surrogate", "a lone surrogate escape (\\u"+strconv.FormatInt(int64(s.high), 16)+")", nil)
				return
			}
			s.char(r)
		}
		return
	}
	switch s.state {
	case outside:
		s.structural(b)
	case inString:
		switch {
		case s.high != 0 && b != '\\':
			s.fail("error.json_surrogate", "a lone surrogate escape (\\u"+strconv.FormatInt(int64(s.high), 16)+")", nil)
		case b == '\\':
			s.state = inEscape
		case b == '"':
			s.endString()
		default:
			s.char(rune(b))
		}
	case inEscape:
		if b == 'u' {
			s.state, s.hex, s.code = inUnicode, 0, 0
			return
		}
		if s.high != 0 {
			s.fail("error.json_surrogate", "a lone surrogate escape (\\u"+strconv.FormatInt(int64(s.high), 16)+")", nil)
			return
		}
		s.state = inString
		if r := unescape(b); r >= 0 {
			s.char(r)
		}
	case inUnicode:
		d, err := strconv.ParseUint(string(b), 16, 8)
		if err != nil {
			s.state = inString // the decoder reports the bad escape
			return
		}
		s.code = s.code<<4 | rune(d)
		if s.hex++; s.hex < 4 {
			return
		}
		s.state = inString
		s.escaped(s.code)
	}
}

// escaped takes the code point of a \u escape.
func (s *strictReader) escaped(c rune) {
	switch {
	case s.high != 0 && c >= 0xdc00 && c <= 0xdfff:
		s.char(utf16Pair(s.high, c))
		s.high = 0
	case s.high != 0 || (c >= 0xdc00 && c <= 0xdfff):
		if s.high != 0 {
			c = s.high
		}
		s.fail("error.json_surrogate", "a lone surrogate escape (\\u"+strconv.FormatInt(int64(c), 16)+")", nil)
	case c >= 0xd800 && c <= 0xdbff:
		s.high = c
	default:
		s.char(c)
	}
}

// unescape is the character of a one-letter escape, -1 for none.
func unescape(b byte) rune {
	switch b {
	case '"', '\\', '/':
		return rune(b)
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return -1
}

func utf16Pair(hi, lo rune) rune { return (hi-0xd800)<<10 | (lo - 0xdc00) + 0x10000 }

// char takes one character of a string.
func (s *strictReader) char(r rune) {
	if app.IsControl(r) {
		e := app.ControlError("", r, s.offset)
		s.err = e
		return
	}
	if s.inKey && !s.keyEnd {
		s.key = utf8.AppendRune(s.key, r)
		if len(s.key) > maxKey {
			s.keyEnd = true
			s.fail("error.json_key", fmt.Sprintf("an object key longer than %d bytes", maxKey), nil)
		}
	}
}

func (s *strictReader) endString() {
	s.state = outside
	if !s.inKey {
		return
	}
	s.inKey = false
	top := &s.stack[len(s.stack)-1]
	if top.keys == nil {
		top.keys = map[string]struct{}{}
	}
	k := string(s.key)
	// encoding/json matches keys to fields without regard to case, so
	// "Agency" after "agency" is a second value of one field.
	if _, dup := top.keys[foldKey(k)]; dup {
		s.fail("error.json_duplicate", "the key "+strconv.Quote(k)+" appears twice in one object", map[string]any{"Key": k})
		return
	}
	top.keys[foldKey(k)] = struct{}{}
}

// foldKey is k with each character replaced by the smallest of its case
// variants, as encoding/json compares keys.
func foldKey(k string) string {
	b := make([]rune, 0, len(k))
	for _, r := range k {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = append(b, m)
	}
	return string(b)
}

// structural follows the nesting, to know which strings are keys.
func (s *strictReader) structural(b byte) {
	switch b {
	case '{', '[':
		if len(s.stack) >= maxDepth {
			s.fail("error.json_depth", fmt.Sprintf("objects and arrays nested more than %d deep", maxDepth), nil)
			return
		}
		s.stack = append(s.stack, frame{object: b == '{', expectKey: b == '{'})
	case '}', ']':
		if len(s.stack) > 0 {
			s.stack = s.stack[:len(s.stack)-1]
		}
	case ',':
		if n := len(s.stack); n > 0 && s.stack[n-1].object {
			s.stack[n-1].expectKey = true
		}
	case ':':
		if n := len(s.stack); n > 0 {
			s.stack[n-1].expectKey = false
		}
	case '"':
		s.state = inString
		n := len(s.stack)
		s.inKey = n > 0 && s.stack[n-1].object && s.stack[n-1].expectKey
		s.key, s.keyEnd = s.key[:0], false
	}
}
