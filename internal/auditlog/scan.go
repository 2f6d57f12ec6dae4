package auditlog

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// scanned holds the fields of an entry that the full verification needs,
// as slices of its data.
type scanned struct {
	states     [][]byte
	commitment []byte
}

// scanFields reads the States and the commitment of an entry's data without
// decoding it all, reusing f. It accepts only what Encode writes: the keys
// in the encoding's order, spelt exactly, strings without escapes, and the
// time in UTC. On anything else it returns false and the caller decodes the
// data with Decode; so whenever it returns true, Decode would succeed and
// give the same fields (Decode turns invalid UTF-8 into U+FFFD: such States
// or commitments are left to it too).
func scanFields(data []byte, f *scanned) bool {
	f.states = f.states[:0]
	f.commitment = nil
	if bytes.IndexByte(data, '\\') >= 0 || hasControl(data) {
		return false
	}
	p, ok := data, true
	var s []byte
	if p, ok = literal(p, `{"v":`); !ok {
		return false
	}
	if _, p, ok = str(p); !ok {
		return false
	}
	if p, ok = literal(p, `,"type":`); !ok {
		return false
	}
	if _, p, ok = str(p); !ok {
		return false
	}
	if q, ok := literal(p, `,"actor_id":`); ok {
		if p, ok = integer(q); !ok {
			return false
		}
	}
	if p, ok = literal(p, `,"actor":`); !ok {
		return false
	}
	if _, p, ok = str(p); !ok {
		return false
	}
	if q, ok := literal(p, `,"actor_state":`); ok {
		if _, p, ok = str(q); !ok {
			return false
		}
	}
	if p, ok = literal(p, `,"object":`); !ok {
		return false
	}
	if _, p, ok = str(p); !ok {
		return false
	}
	if p, ok = literal(p, `,"states":[`); !ok {
		return false
	}
	if q, ok := literal(p, `]`); ok {
		p = q
	} else {
		for {
			if s, p, ok = str(p); !ok || len(p) == 0 || !utf8.Valid(s) {
				return false
			}
			f.states = append(f.states, s)
			if p[0] == ']' {
				p = p[1:]
				break
			}
			if p[0] != ',' {
				return false
			}
			p = p[1:]
		}
	}
	if p, ok = literal(p, `,"at":`); !ok {
		return false
	}
	if s, p, ok = str(p); !ok || !utcTime(s) {
		return false
	}
	if q, ok := literal(p, `,"commitment":`); ok {
		if s, p, ok = str(q); !ok || !utf8.Valid(s) {
			return false
		}
		f.commitment = s
	}
	return string(p) == "}"
}

func literal(p []byte, lit string) ([]byte, bool) {
	if len(p) < len(lit) || string(p[:len(lit)]) != lit {
		return p, false
	}
	return p[len(lit):], true
}

// str reads a string at the start of p (the caller has checked that the
// data holds no escape).
func str(p []byte) (s, rest []byte, ok bool) {
	if len(p) == 0 || p[0] != '"' {
		return nil, p, false
	}
	end := bytes.IndexByte(p[1:], '"')
	if end < 0 {
		return nil, p, false
	}
	return p[1 : 1+end], p[2+end:], true
}

// integer reads an integer that fits an int64 at the start of p.
func integer(p []byte) ([]byte, bool) {
	i := 0
	if i < len(p) && p[i] == '-' {
		i++
	}
	start := i
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if n := i - start; n == 0 || n > 18 || n > 1 && p[start] == '0' {
		return p, false
	}
	return p[i:], true
}

// utcTime reports whether s is a valid time as Encode writes it:
// 2006-01-02T15:04:05Z, with up to nine digits of fraction.
func utcTime(s []byte) bool {
	if len(s) < 20 || s[len(s)-1] != 'Z' {
		return false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return false
	}
	frac := s[19 : len(s)-1]
	if len(frac) == 0 {
		return true
	}
	return frac[0] == '.' && len(frac) >= 2 && len(frac) <= 10 && num(20, len(frac)-1) >= 0
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// hasControl reports whether p holds a byte below 0x20, which JSON strings
// cannot hold unescaped, eight bytes at a time.
func hasControl(p []byte) bool {
	const highs, spaces = 0x8080808080808080, 0x20 * 0x0101010101010101
	for len(p) >= 8 {
		x := binary.LittleEndian.Uint64(p)
		if (x-spaces)&^x&highs != 0 {
			return true
		}
		p = p[8:]
	}
	for _, c := range p {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// scanAuthentic is scanFields for data known to be what Encode wrote: the
// entries that a signed checkpoint covers. (Check compares that
// checkpoint's root with the tree it rebuilds from these very bytes, and
// reports the log as altered if they differ.) Encode's output is valid JSON
// in a fixed order of keys that ends with the States, the time and the
// commitment, if any: it reads them from the end, without looking at the
// rest. A string is taken only if it holds no backslash, so that it has no
// escape and ends at the first quote met; on escapes or any surprise it
// returns false, and the caller falls back to scanFields.
func scanAuthentic(data []byte, f *scanned) bool {
	f.states = f.states[:0]
	f.commitment = nil
	p, ok := literalBack(data, `}`)
	if !ok {
		return false
	}
	s, p, ok := strBack(p)
	if !ok {
		return false
	}
	if q, ok := literalBack(p, `,"commitment":`); ok {
		f.commitment = s
		if _, p, ok = strBack(q); !ok {
			return false
		}
	}
	if p, ok = literalBack(p, `,"at":`); !ok {
		return false
	}
	if p, ok = literalBack(p, `]`); !ok {
		return false
	}
	if q, ok := literalBack(p, `[`); ok {
		p = q
	} else {
		for {
			if s, p, ok = strBack(p); !ok || len(p) == 0 {
				return false
			}
			f.states = append(f.states, s)
			c := p[len(p)-1]
			p = p[:len(p)-1]
			if c == '[' {
				break
			}
			if c != ',' {
				return false
			}
		}
		slices.Reverse(f.states)
	}
	_, ok = literalBack(p, `,"states":`)
	return ok
}

// literalBack is literal at the end of p.
func literalBack(p []byte, lit string) ([]byte, bool) {
	if len(p) < len(lit) || string(p[len(p)-len(lit):]) != lit {
		return p, false
	}
	return p[:len(p)-len(lit)], true
}

// strBack reads a string without a backslash at the end of p.
func strBack(p []byte) (s, rest []byte, ok bool) {
	end := len(p) - 1
	if end < 0 || p[end] != '"' {
		return nil, p, false
	}
	// Eight bytes at a time while none is a quote or a backslash (a
	// commitment is 64 of them), then one at a time.
	i := end
	for i >= 8 && !quoteOrBackslash(binary.LittleEndian.Uint64(p[i-8:i])) {
		i -= 8
	}
	for i--; i >= 0; i-- {
		switch p[i] {
		case '"':
			return p[i+1 : end], p[:i], true
		case '\\':
			return nil, p, false
		}
	}
	return nil, p, false
}

// quoteOrBackslash reports whether one of the eight bytes of x is a quote
// or a backslash: x XOR the byte repeated has a zero byte exactly then.
func quoteOrBackslash(x uint64) bool {
	const lows, highs = 0x0101010101010101, 0x8080808080808080
	q, b := x^('"'*lows), x^('\\'*lows)
	return ((q-lows)&^q|(b-lows)&^b)&highs != 0
}
