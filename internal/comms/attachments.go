package comms

import (
	"bytes"
	"context"
	"database/sql"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
)

// The attachment types pocdir accepts, by extension, with the bytes they
// must start with (nil: text, checked as UTF-8 without NUL bytes).
// Executables, scripts, HTML and SVG are refused: they could act on the
// reader's machine or in the browser.
var attachmentTypes = map[string]struct {
	media string
	magic [][]byte
}{
	".pdf":    {"application/pdf", [][]byte{[]byte("%PDF-")}},
	".png":    {"image/png", [][]byte{[]byte("\x89PNG\r\n\x1a\n")}},
	".jpg":    {"image/jpeg", [][]byte{{0xff, 0xd8, 0xff}}},
	".jpeg":   {"image/jpeg", [][]byte{{0xff, 0xd8, 0xff}}},
	".gif":    {"image/gif", [][]byte{[]byte("GIF87a"), []byte("GIF89a")}},
	".zip":    {"application/zip", [][]byte{[]byte("PK\x03\x04")}},
	".gz":     {"application/gzip", [][]byte{{0x1f, 0x8b}}},
	".pcap":   {"application/vnd.tcpdump.pcap", [][]byte{{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}}},
	".pcapng": {"application/octet-stream", [][]byte{{0x0a, 0x0d, 0x0d, 0x0a}}},
	".docx":   {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", [][]byte{[]byte("PK\x03\x04")}},
	".xlsx":   {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [][]byte{[]byte("PK\x03\x04")}},
	".odt":    {"application/vnd.oasis.opendocument.text", [][]byte{[]byte("PK\x03\x04")}},
	".txt":    {"text/plain; charset=utf-8", nil},
	".log":    {"text/plain; charset=utf-8", nil},
	".csv":    {"text/csv; charset=utf-8", nil},
	".json":   {"application/json", nil},
	".xml":    {"application/xml", nil},
	".eml":    {"message/rfc822", nil},
	".asc":    {"text/plain; charset=utf-8", nil},
}

// AttachmentExtensions lists the accepted file extensions, for the form.
func AttachmentExtensions() []string {
	var out []string
	for ext := range attachmentTypes {
		out = append(out, ext)
	}
	sort.Strings(out)
	return out
}

// badNameRune refuses control characters and the bidirectional formatting
// ones, with which "report\u202Eexe.pdf" would read as "reportfdp.exe".
func badNameRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// checkAttachment sets the media type from the extension and checks that
// the bytes are of that type.
func checkAttachment(a *Attachment) (key, msg string) {
	name := strings.TrimSpace(a.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "/\\\x00\r\n\"") || strings.IndexFunc(name, badNameRune) >= 0 {
		return "error.attachment_name", "the file name is missing or not allowed"
	}
	if a.Size = int64(len(a.Data)); a.Size == 0 {
		return "error.attachment_empty", "the file is empty"
	}
	if a.Size > MaxAttachmentBytes {
		return "error.attachment_size", "the file is over the size limit"
	}
	t, ok := attachmentTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return "error.attachment_type", "this kind of file is not accepted"
	}
	if t.magic == nil {
		if !utf8.Valid(a.Data) || bytes.IndexByte(a.Data, 0) >= 0 {
			return "error.attachment_content", "the file's content does not match its type"
		}
	} else {
		match := false
		for _, m := range t.magic {
			match = match || bytes.HasPrefix(a.Data, m)
		}
		if !match {
			return "error.attachment_content", "the file's content does not match its type"
		}
	}
	a.Name, a.Type = name, t.media
	return "", ""
}

func checkAttachments(v *app.Validation, atts []*Attachment) {
	if len(atts) > MaxAttachments {
		v.Add("attachments", "error.attachment_count", "too many files", map[string]any{"Max": MaxAttachments})
		return
	}
	var total int64
	for _, a := range atts {
		if key, msg := checkAttachment(a); key != "" {
			v.Add("attachments", key, msg, map[string]any{"Name": a.Name, "MaxMB": MaxAttachmentBytes >> 20})
		}
		total += int64(len(a.Data))
	}
	if total > MaxTotalAttachment {
		v.Add("attachments", "error.attachment_total", "the files together are over the size limit", map[string]any{"MaxMB": MaxTotalAttachment >> 20})
	}
}

func checkStoredAttachments(ctx context.Context, tx *sql.Tx, id int64) error {
	n, total, err := storedAttachments(ctx, tx, id)
	if err != nil {
		return err
	}
	if n > MaxAttachments {
		return app.FieldError("attachments", "error.attachment_count", "too many files", map[string]any{"Max": MaxAttachments})
	}
	if total > MaxTotalAttachment {
		return app.FieldError("attachments", "error.attachment_total", "the files together are over the size limit", map[string]any{"MaxMB": MaxTotalAttachment >> 20})
	}
	return nil
}
