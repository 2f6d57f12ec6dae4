// Package export turns what a user may see of the directory into files that
// leave pocdir: CSV, JSON and vCard of the whole directory (or the part a
// filter selects), of one State's entry, or of one PoC; and PDF, printable,
// of the directory or of one State's entry (pdf.go). It reads through the
// directory service, so an export holds exactly what its reader may see on
// the directory and State pages (the validated entries: never a pending
// nomination), and every export is recorded in the accountability log.
// It also holds the one CSV writer of pocdir (CSV).
package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

// Format is the format of an export.
type Format string

// The export formats.
const (
	CSVFormat   Format = "csv"
	JSONFormat  Format = "json"
	VCardFormat Format = "vcard"
	PDFFormat   Format = "pdf"
)

// Formats lists the formats in the order the pages offer them.
var Formats = []Format{CSVFormat, JSONFormat, VCardFormat, PDFFormat}

// ParseFormat reads the format parameter; CSV when it is empty.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return CSVFormat, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", app.FieldError("format", "error.export_format", "unknown export format: csv, json, vcard or pdf", nil)
}

// File is an export, ready to send.
type File struct {
	Name string // the file name offered to save it under
	Type string // its media type
	Body []byte
}

// Service makes the exports. It holds no state of its own.
type Service struct {
	Dir     *directory.Service
	Catalog *i18n.Catalog
}

// Directory exports the States that the filter selects, as on the directory
// page, with their PoCs.
func (s *Service) Directory(ctx context.Context, f directory.Filter, format Format) (*File, error) {
	// Copies of the directory are for members: an observer reads the
	// entries granted to it in the portal, and takes no copy away.
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	entries, err := s.Entries(ctx, f)
	if err != nil {
		return nil, err
	}
	name := "pocdir-directory"
	if filtered := FilterQuery(f); filtered != "" {
		name += "-filtered"
	}
	return s.file(ctx, "directory", FilterQuery(f), name, entries, format)
}

// State exports one State's entry with its PoCs.
func (s *Service) State(ctx context.Context, code string, format Format) (*File, error) {
	// Copies of the directory are for members: an observer reads the
	// entries granted to it in the portal, and takes no copy away.
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	e, err := s.Dir.Get(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.file(ctx, "state/"+e.Code, "", "pocdir-"+strings.ToLower(e.Code), []*directory.Entry{e}, format)
}

// PoC exports one PoC's vCard.
func (s *Service) PoC(ctx context.Context, id int64) (*File, error) {
	// Copies of the directory are for members: an observer reads the
	// entries granted to it in the portal, and takes no copy away.
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	p, err := s.Dir.GetPoC(ctx, id)
	if err != nil {
		return nil, err
	}
	e, err := s.Dir.Get(ctx, p.State)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := writeVCard(&b, &e.State, p, s.labels(ctx)); err != nil {
		return nil, err
	}
	if err := s.Dir.Exported(ctx, "poc/"+strconv.FormatInt(id, 10)+".vcf"); err != nil {
		return nil, err
	}
	return &File{Name: fmt.Sprintf("pocdir-%s-poc-%d.vcf", strings.ToLower(p.State), id), Type: VCardType, Body: b.Bytes()}, nil
}

// Entries returns the entries of the States that the filter selects, with
// their PoCs, as the reader may see them: what Directory exports. It
// records nothing in the log; whoever makes a file of them does.
func (s *Service) Entries(ctx context.Context, f directory.Filter) ([]*directory.Entry, error) {
	// Copies of the directory are for members: an observer reads the
	// entries granted to it in the portal, and takes no copy away.
	if _, err := app.RequireActor(ctx); err != nil {
		return nil, err
	}
	list, err := s.Dir.List(ctx, f)
	if err != nil {
		return nil, err
	}
	entries := make([]*directory.Entry, 0, len(list))
	for _, sum := range list {
		e, err := s.Dir.Get(ctx, sum.Code)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Encode writes the entries of the directory (or, when what starts with
// "state/", of one State) in a format, with the vCards' words in the
// reader's language. It records nothing in the log: the offline copy, which
// holds several encodings, records itself once.
func (s *Service) Encode(ctx context.Context, what string, entries []*directory.Entry, format Format) ([]byte, error) {
	var b bytes.Buffer
	var err error
	switch format {
	case CSVFormat:
		err = writeCSV(&b, entries)
	case JSONFormat:
		err = writeJSON(&b, what, entries)
	case VCardFormat:
		l := s.labels(ctx)
		for _, e := range entries {
			for _, p := range e.PoCs {
				if err = writeVCard(&b, &e.State, p, l); err != nil {
					break
				}
			}
		}
	case PDFFormat:
		return s.writePDF(ctx, what, entries, s.Dir.Now())
	default:
		_, err = ParseFormat(string(format))
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// file encodes the entries, records the export in the log, and names the
// file. what and query name the export in the log.
func (s *Service) file(ctx context.Context, what, query, name string, entries []*directory.Entry, format Format) (*File, error) {
	body, err := s.Encode(ctx, what, entries, format)
	if err != nil {
		return nil, err
	}
	typ, ext := CSVType, ".csv"
	switch format {
	case JSONFormat:
		typ, ext = "application/json", ".json"
	case VCardFormat:
		typ, ext = VCardType, ".vcf"
	case PDFFormat:
		typ, ext = PDFType, ".pdf"
	}
	logged := what + "." + string(format)
	if query != "" {
		logged += "?" + query
	}
	if err := s.Dir.Exported(ctx, logged); err != nil {
		return nil, err
	}
	return &File{Name: name + ext, Type: typ, Body: body}, nil
}

// FilterQuery writes a filter as the directory page's query string (the
// parameters of /directory and /directory/export), for the log and links.
func FilterQuery(f directory.Filter) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", f.Query)
	set("group", f.Group)
	set("body", f.Body)
	set("level", string(f.Level))
	set("lang", f.Language)
	if f.Only247 {
		v.Set("h247", "1")
	}
	return v.Encode()
}

// writeJSON writes the API's shapes: one State's entry as GET
// /api/v1/states/{code} returns it, the directory as a list of them.
func writeJSON(b *bytes.Buffer, what string, entries []*directory.Entry) error {
	enc := json.NewEncoder(b)
	enc.SetIndent("", " ")
	if strings.HasPrefix(what, "state/") && len(entries) == 1 {
		return enc.Encode(entries[0])
	}
	return enc.Encode(map[string]any{"states": entries, "count": len(entries)})
}

// csvHeader names the columns of the directory's CSV: one line per PoC, and
// one for each State that has none, so that a filtered list reads whole.
var csvHeader = []string{"state_code", "state_name", "un_group", "regional_bodies", "status", "initiate_via", "entry_updated_at", "entry_confirmed_at",
	"poc_id", "level", "alternate", "agency", "function_title", "person_name", "emails", "phones", "faxes", "other_channels", "preferred_channel",
	"languages", "time_zone", "available_24_7", "hours", "working_hours", "openpgp_fingerprint", "openpgp_expires_at", "notes", "notes_en",
	"regional_refs", "leaving_on", "poc_updated_at"}

func writeCSV(b *bytes.Buffer, entries []*directory.Entry) error {
	w := NewCSV(b)
	if err := w.Write(csvHeader); err != nil {
		return err
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	for _, e := range entries {
		state := []string{e.Code, e.Name, e.Group, strings.Join(e.Bodies, "; "), e.Status, e.InitiateVia, date(e.UpdatedAt), date(e.ConfirmedAt)}
		if len(e.PoCs) == 0 {
			if err := w.Write(append(state, make([]string, len(csvHeader)-len(state))...)); err != nil {
				return err
			}
			continue
		}
		for _, p := range e.PoCs {
			var emails, phones, faxes, others []string
			preferred := ""
			for _, ch := range p.Channels {
				switch ch.Kind {
				case directory.ChannelEmail:
					emails = append(emails, ch.Value)
				case directory.ChannelPhone:
					phones = append(phones, ch.Value)
				case directory.ChannelFax:
					faxes = append(faxes, ch.Value)
				default:
					others = append(others, string(ch.Kind)+": "+ch.Value)
				}
				if ch.Preferred {
					preferred = string(ch.Kind) + ": " + ch.Value
				}
			}
			var refs []string
			for _, r := range p.RegionalRefs {
				refs = append(refs, r.Body+": "+r.Ref)
			}
			updated := p.UpdatedAt
			row := append(append([]string{}, state...), strconv.FormatInt(p.ID, 10), string(p.Level), yes(p.Alternate), p.Agency, p.FunctionTitle, p.PersonName,
				strings.Join(emails, "; "), strings.Join(phones, "; "), strings.Join(faxes, "; "), strings.Join(others, "; "), preferred,
				strings.Join(p.Languages, "; "), p.TimeZone, yes(p.Available247), p.Hours, p.WorkingHours, p.PGPFingerprint, date(p.PGPExpiresAt),
				p.Notes.Text, p.Notes.English, strings.Join(refs, "; "), p.LeavingOn, date(&updated))
			if err := w.Write(row); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

// labels are the words of the vCards in the reader's language.
func (s *Service) labels(ctx context.Context) Labels {
	lang := "en"
	if a := app.ActorFrom(ctx); a != nil && a.Language != "" && s.Catalog.Has(a.Language) {
		lang = a.Language
	}
	t := s.Catalog.For(lang)
	return Labels{
		State:     func(iso2, english string) string { return i18n.StateName(lang, iso2, english) },
		Level:     func(l directory.Level) string { return t.T("level." + string(l)) },
		Alternate: t.T("poc.alternate"),
		Always:    t.T("poc.available_247"),
		Hours:     t.T("field.hours"),
		Channel:   func(k directory.ChannelKind) string { return t.T("channel." + string(k)) },
	}
}

// Serve sends the file as a download: its media type, a Content-Disposition
// with its name (plain ASCII, which every browser takes as it is), and its
// length.
func (f *File) Serve(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(f.Body)))
	h.Set("Cache-Control", "private, no-store")
	w.Write(f.Body)
}
