package mailin

import (
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
)

// Delivery status notifications (RFC 3464): the per-recipient blocks of a
// multipart/report, and the Message-ID of the message returned.

func isDSNReport(reportType string) bool {
	return strings.EqualFold(reportType, "delivery-status") || strings.EqualFold(reportType, "global-delivery-status")
}

// report reads a multipart/report of delivery status (RFC 3464): the
// human-readable part is read as any other, the machine-readable ones into
// a DSN.
func (w *walker) report(parts [][]byte, depth int) error {
	dsn := &DSN{}
	for _, p := range parts {
		h, body, err := splitHeader(p)
		if err != nil {
			return malformed("report part header: %v", err)
		}
		ct, _ := mediaType(h.Get("Content-Type"), "text/plain")
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			if err := w.count(); err != nil {
				return err
			}
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			if err := readDeliveryStatus(dsn, data); err != nil {
				return err
			}
		case "text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers":
			if err := w.count(); err != nil {
				return err
			}
			data, err := decodeTransfer(h, body)
			if err != nil {
				return err
			}
			if dsn.OriginalMessageID == "" {
				dsn.OriginalMessageID = returnedMessageID(data)
			}
		default:
			if err := w.entity(h, body, depth+1); err != nil {
				return err
			}
		}
	}
	if w.m.DSN == nil {
		w.m.DSN = dsn
	}
	return nil
}

// fieldBlocks reads the "Name: value" blocks of a delivery-status body
// (RFC 3464 §2.1), separated by blank lines. It never fails: a DSN is read
// for what it says, and one odd line must not hide the rest.
func fieldBlocks(data []byte, onlyFirst bool) []map[string]string {
	var blocks []map[string]string
	cur := map[string]string{}
	last := ""
	for line := range strings.Lines(lfText(string(data))) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				if onlyFirst {
					return blocks
				}
				cur = map[string]string{}
			}
			last = ""
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			k = strings.ToLower(strings.TrimSpace(k))
			last = ""
			if !ok || k == "" {
				continue
			}
			if _, dup := cur[k]; !dup {
				cur[k] = strings.TrimSpace(v)
				last = k
			}
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

func readDeliveryStatus(d *DSN, data []byte) error {
	for _, f := range fieldBlocks(data, false) {
		if v := f["original-envelope-id"]; v != "" && d.EnvelopeID == "" {
			d.EnvelopeID = oneLine(v)
		}
		if f["final-recipient"] == "" && f["action"] == "" {
			continue
		}
		if len(d.Recipients) >= maxDSNRecipients {
			return tooComplex("more than %d recipients in a delivery status", maxDSNRecipients)
		}
		d.Recipients = append(d.Recipients, DSNRecipient{
			FinalRecipient:    typedValue(f["final-recipient"]),
			OriginalRecipient: typedValue(f["original-recipient"]),
			Action:            strings.ToLower(first(strings.Fields(f["action"]))),
			Status:            oneLine(first(strings.Fields(f["status"]))),
			Diagnostic:        cut(oneLine(afterType(f["diagnostic-code"])), maxDiagnostic),
		})
	}
	return nil
}

// typedValue reads an address of a DSN field ("rfc822; poc@example.org").
func typedValue(v string) string {
	return strings.Trim(oneLine(afterType(v)), "<>")
}

func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return rest
	}
	return v
}

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// returnedMessageID reads the Message-ID of the message a DSN returns,
// from its header alone.
func returnedMessageID(data []byte) string {
	blocks := fieldBlocks(data, true)
	if len(blocks) == 0 {
		return ""
	}
	var h mail.Header
	if v := blocks[0]["message-id"]; v != "" {
		h.Set("Message-Id", v)
	}
	return first(msgIDs(h, "Message-Id"))
}
