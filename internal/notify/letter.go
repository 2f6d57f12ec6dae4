package notify

import (
	"strings"

	"github.com/pocdir/pocdir/internal/i18n"
)

// Every email pocdir sends is written here, from the translation catalog,
// in the reader's language with the English text below (principle 8): the
// capabilities say what to write (a Letter), the Writer writes it. None of
// them formats an email of its own.

// Reader is who an email is for: an address and the language they read.
type Reader struct {
	Email string
	// Lang is a catalog language; any other (or none) reads English.
	Lang string
}

// Text is a message of the catalog with its arguments as name/value pairs.
// An argument of type Term is a message id itself, translated into the
// language being written (a role, an urgency, a level); any other argument
// is shown as it is.
type Text struct {
	ID   string
	Args []any
}

// T returns the catalog message id with its arguments.
func T(id string, args ...any) Text { return Text{ID: id, Args: args} }

// Term is an argument that is translated: the id of a catalog message.
type Term string

// State is an argument that names a State by its ISO 3166-1 alpha-3 code,
// written as the State's name in the reader's language (see
// Writer.WithStates).
type State string

// Letter is an email before it is written.
type Letter struct {
	// Kind says what caused it (the outbox's kind, e.g. "invitation").
	Kind    string
	To      Reader
	Subject Text
	// Body is its paragraphs, separated by a blank line.
	Body []Text
	// Note, when set, is text a person wrote (the message of a check), shown
	// as it was typed, once, above the text.
	Note string
	// Attachment, when set, is attached to the e-mail.
	Attachment *Attachment
}

// Writer writes every email of pocdir from the catalog, and makes the links
// to the portal that emails carry.
type Writer struct {
	catalog *i18n.Catalog
	baseURL string
	replies *Replies
	states  func(code string) (iso2, english string, ok bool)
}

// NewWriter returns the writer of pocdir's emails. baseURL is the portal's
// public address (https://pocdir.example.org), for links.
func NewWriter(catalog *i18n.Catalog, baseURL string) *Writer {
	return &Writer{catalog: catalog, baseURL: strings.TrimRight(baseURL, "/")}
}

// WithReplies returns a writer whose emails can be answered by email, at
// reply addresses of r (nil: they cannot).
func (w *Writer) WithReplies(r *Replies) *Writer {
	cp := *w
	cp.replies = r
	return &cp
}

// WithStates returns a writer that names States (State arguments) from
// the reference list: their ISO 3166-1 alpha-2 code and English name by
// alpha-3 code. Without it, a State is written as its code.
func (w *Writer) WithStates(lookup func(code string) (iso2, english string, ok bool)) *Writer {
	cp := *w
	cp.states = lookup
	return &cp
}

// Replies returns the reply addresses, or nil when emails cannot be
// answered by email.
func (w *Writer) Replies() *Replies { return w.replies }

// Link returns the portal's address of a path ("/comms/12").
func (w *Writer) Link(path string) string { return w.baseURL + path }

// BaseURL returns the portal's public address ("" when not configured).
func (w *Writer) BaseURL() string { return w.baseURL }

// Catalog returns the translation catalog the writer writes from.
func (w *Writer) Catalog() *i18n.Catalog { return w.catalog }

// ReaderOf returns the reader at address of the first of langs that the
// catalog has (a PoC lists its working languages, which may be any), or an
// English reader.
func (w *Writer) ReaderOf(address string, langs ...string) Reader {
	for _, l := range langs {
		if w.catalog.Has(l) {
			return Reader{Email: address, Lang: l}
		}
	}
	return Reader{Email: address, Lang: "en"}
}

// Write writes the letter: the subject in the reader's language, the body
// in the reader's language and, when that is not English, in English
// below.
func (w *Writer) Write(l Letter) Message {
	lang := l.To.Lang
	if !w.catalog.Has(lang) {
		lang = "en"
	}
	var b strings.Builder
	if l.Note != "" {
		b.WriteString(l.Note)
		b.WriteString("\n\n")
	}
	b.WriteString(w.Text(lang, l.Body...))
	if lang != "en" {
		b.WriteString("\n\n— English —\n\n")
		b.WriteString(w.Text("en", l.Body...))
	}
	return Message{Kind: l.Kind, To: l.To.Email, Subject: w.Text(lang, l.Subject), Body: strings.TrimRight(b.String(), "\n") + "\n", Attachment: l.Attachment}
}

// stateName is a State's name in a language, or its code when it is not in
// the reference list (or the writer has none).
func (w *Writer) stateName(lang, code string) string {
	if w.states == nil || code == "" {
		return code
	}
	iso2, english, ok := w.states(code)
	if !ok {
		return code
	}
	return i18n.StateName(lang, iso2, english)
}

// Text writes paragraphs in a language, separated by blank lines.
func (w *Writer) Text(lang string, parts ...Text) string {
	loc := w.catalog.For(lang)
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		args := make([]any, len(p.Args))
		copy(args, p.Args)
		for i := 1; i < len(args); i += 2 {
			switch t := args[i].(type) {
			case Term:
				args[i] = loc.T(string(t))
			case State:
				args[i] = w.stateName(lang, string(t))
			}
		}
		if s := strings.TrimRight(loc.T(p.ID, args...), "\n"); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n\n")
}
