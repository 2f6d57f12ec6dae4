package mailin

import (
	"bytes"
	"strings"
)

// OpenPGP in mail: PGP/MIME signed and encrypted parts (RFC 3156), and the
// armored blocks of inline messages, cut out exactly as they were signed.

// signed reads a PGP/MIME signed entity. The signature covers the first
// part's bytes exactly, so they are kept as they came, only with their
// line endings made CRLF again (a mail store may have written LF).
func (w *walker) signed(parts [][]byte, depth int) error {
	if len(parts) != 2 {
		return malformed("multipart/signed with %d parts instead of 2", len(parts))
	}
	if err := w.count(); err != nil {
		return err
	}
	sh, sbody, err := splitHeader(parts[1])
	if err != nil {
		return malformed("signature part header: %v", err)
	}
	sig, err := decodeTransfer(sh, sbody)
	if err != nil {
		return err
	}
	if w.frozen {
		return nil
	}
	if w.m.Signed != nil {
		// A signed entity inside the signed part: the outer signature is
		// the one that covers what the writer sent.
		return w.part(parts[0], depth+1)
	}
	w.m.Signed = &Signed{Data: canonicalCRLF(parts[0]), Signature: strings.ToValidUTF8(lfText(string(sig)), "\uFFFD")}
	w.restart()
	if err := w.part(parts[0], depth+1); err != nil {
		return err
	}
	w.frozen = true
	return nil
}

// encrypted reads a PGP/MIME encrypted entity: the second part holds the
// armored message (RFC 3156 §4).
func (w *walker) encrypted(parts [][]byte) error {
	if len(parts) < 2 {
		return malformed("multipart/encrypted with %d parts instead of 2", len(parts))
	}
	for range parts {
		if err := w.count(); err != nil {
			return err
		}
	}
	h, body, err := splitHeader(parts[1])
	if err != nil {
		return malformed("encrypted part header: %v", err)
	}
	data, err := decodeTransfer(h, body)
	if err != nil {
		return err
	}
	armored := lfText(string(data))
	start, end, ok := armorBlock(armored, "PGP MESSAGE")
	if !ok {
		return malformed("multipart/encrypted without an ASCII-armored OpenPGP message")
	}
	if w.frozen {
		return nil
	}
	w.restart()
	w.m.Encrypted = strings.ToValidUTF8(armored[start:end], "\uFFFD")
	w.frozen = true
	return nil
}

// restart forgets the text and attachments read so far, for when a signed
// or encrypted part turns up inside a larger multipart.
func (w *walker) restart() {
	w.text, w.textSet, w.html, w.htmlSet = "", false, "", false
	w.m.Attachments = nil
}

// lfText turns CRLF line endings into LF.
func lfText(s string) string {
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// canonicalCRLF returns a copy of b with every line ending in CRLF, the
// form RFC 3156 signs.
func canonicalCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// armorLine finds, at or after from, a line of text that is exactly line
// (trailing white space aside), and returns where it starts and where the
// line after it starts.
func armorLine(text, line string, from int) (start, next int, ok bool) {
	for from < len(text) {
		i := strings.Index(text[from:], line)
		if i < 0 {
			return 0, 0, false
		}
		i += from
		from = i + len(line)
		if i > 0 && text[i-1] != '\n' {
			continue // only a line's start is measured, so that one long line costs once
		}
		end := strings.IndexByte(text[from:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += from
		}
		if strings.TrimRight(text[from:end], " \t\r") == "" {
			if end < len(text) {
				end++
			}
			return i, end, true
		}
	}
	return 0, 0, false
}

// armorBlock finds an ASCII-armored block of the given kind on lines of
// its own, from its BEGIN line to its END line.
func armorBlock(text, kind string) (start, end int, ok bool) {
	start, next, ok := armorLine(text, "-----BEGIN "+kind+"-----", 0)
	if !ok {
		return 0, 0, false
	}
	_, end, ok = armorLine(text, "-----END "+kind+"-----", next)
	return start, end, ok
}

// clearSignedBlock finds an OpenPGP cleartext signed message (RFC 4880
// §7): the BEGIN PGP SIGNED MESSAGE line, the text, and the signature.
func clearSignedBlock(text string) (start, end int, ok bool) {
	start, next, ok := armorLine(text, "-----BEGIN PGP SIGNED MESSAGE-----", 0)
	if !ok {
		return 0, 0, false
	}
	_, sig, ok := armorLine(text, "-----BEGIN PGP SIGNATURE-----", next)
	if !ok {
		return 0, 0, false
	}
	_, end, ok = armorLine(text, "-----END PGP SIGNATURE-----", sig)
	return start, end, ok
}

// clearSignedText returns the signed text of a cleartext signed block: past
// the armor headers and their blank line, up to the signature, with the
// "- " of dash-escaped lines removed.
func clearSignedText(block string) string {
	lines := strings.Split(block, "\n")
	i := 1
	for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
		i++
	}
	var out []string
	for _, l := range lines[min(i+1, len(lines)):] {
		if strings.TrimRight(l, " \t\r") == "-----BEGIN PGP SIGNATURE-----" {
			break
		}
		out = append(out, strings.TrimPrefix(l, "- "))
	}
	return strings.Join(out, "\n")
}
