package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type templates struct {
	set *template.Template
	// pages names the template of each page file in set.
	pages map[string]string
}

// tlpClassReplacer makes a TLP label a CSS class name (see tlpclass).
var tlpClassReplacer = strings.NewReplacer("tlp:", "", "+", "-")

var funcs = template.FuncMap{
	"join": strings.Join,
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	},
	"add": func(a, b int) int { return a + b },
	"has": func(list []string, v string) bool { return slices.Contains(list, v) },
	// inlang writes a template's text in the reader's language or, where
	// it has none, in English marked as such (lang="en").
	"inlang": func(t comms.Text, lang string) template.HTML {
		v := template.HTMLEscapeString(t.In(lang))
		if lang != "en" && t[lang] == "" && v != "" {
			return template.HTML(`<span lang="en">` + v + `</span>`)
		}
		return template.HTML(v)
	},
	// tlpclass names the CSS class of a TLP label (the label itself is
	// shown as it is, never translated).
	"tlpclass": func(tlp string) string {
		return "tlp-" + tlpClassReplacer.Replace(strings.ToLower(tlp))
	},
	"lower": strings.ToLower,
	"contains": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

func mustParseTemplates() *templates {
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		panic(err)
	}
	// One set holds the layout and every page: each page's "content" is
	// renamed "content:NAME", and the page "page:NAME" is the layout's
	// head, that content and the layout's foot. (A set per page, each a
	// clone of the layout and its shared definitions, was 9 MB of the 22
	// MB that a serving process keeps.)
	text := string(layout)
	body, defs, ok := strings.Cut(text, "{{define ")
	head, foot, ok2 := strings.Cut(body, `{{template "content" .}}`)
	if !ok || !ok2 {
		panic("layout.html: no {{template \"content\" .}} before its definitions")
	}
	set := template.Must(template.New("layout.html").Funcs(funcs).Parse(
		`{{define "layout_head"}}` + head + `{{end}}{{define "layout_foot"}}` + foot + `{{end}}{{define ` + defs))
	t := &templates{set: set, pages: map[string]string{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		b, err := fs.ReadFile(templateFS, n)
		if err != nil {
			panic(err)
		}
		page := strings.Replace(string(b), `{{define "content"}}`, `{{define "content:`+name+`"}}`, 1)
		if page == string(b) {
			panic(name + `: no {{define "content"}}`)
		}
		template.Must(set.New(name).Parse(page))
		t.pages[name] = "page:" + name
		template.Must(set.New(t.pages[name]).Parse(`{{template "layout_head" .}}{{template "content:` + name + `" .}}{{template "layout_foot" .}}`))
	}
	return t
}

// Page is the data of every page: the request's language and actor, the
// page's own data, and the state of a form (values and field errors).
type Page struct {
	*i18n.Localizer
	Actor  *app.Actor
	Title  string
	Path   string
	Flash  string
	Demo   bool
	CSS    string
	Data   any
	Form   url.Values
	Errors map[string]string
	// ErrorList keeps the order in which field errors were found, for the
	// summary at the top of a form.
	ErrorList []FieldMessage
	Error     string
	// Langs are the interface languages, each named in itself, for the
	// switcher at the foot of every page.
	Langs []langOption
	// CSRF is the anti-forgery token that every form carries.
	CSRF string
	// Script is the address of the passkey script, on the pages that need
	// it (the others have none).
	Script string

	now time.Time
	// inbox counts what waits for the user, for the navigation, once and
	// only when the page shows it.
	inbox      func() (int, error)
	inboxCount *int
}

// InboxCount is how many items wait for the user (the navigation shows it);
// 0 when it cannot be read (the page itself says what went wrong).
func (p *Page) InboxCount() int {
	if p.inboxCount == nil {
		n := 0
		if p.inbox != nil {
			n, _ = p.inbox()
		}
		p.inboxCount = &n
	}
	return *p.inboxCount
}

// FieldMessage is one field's error message.
type FieldMessage struct {
	Field   string
	Message string
}

// V returns the submitted value of a form field.
func (p *Page) V(name string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(name)
}

// Err returns the error message of a form field.
func (p *Page) Err(name string) string { return p.Errors[name] }

func (s *Server) lang(r *http.Request) *i18n.Localizer {
	pref := ""
	if a := app.ActorFrom(r.Context()); a != nil {
		pref = a.Language
	}
	if c, err := r.Cookie(langCookie); err == nil && pref == "" {
		pref = c.Value
	}
	return s.Catalog.For(s.Catalog.Match(pref, r.Header.Get("Accept-Language")))
}

func (s *Server) page(r *http.Request, title string, data any) *Page {
	l := s.lang(r)
	p := &Page{Localizer: l, Actor: app.ActorFrom(r.Context()), Title: l.T(title), Path: r.URL.Path, Demo: s.Demo,
		CSS: s.static.css, Data: data, Errors: map[string]string{}, now: s.Directory.Now(), Langs: s.langs(),
		CSRF: formTokenFrom(r.Context())}
	if p.Actor.IsMember() && s.Inbox != nil {
		p.inbox = func() (int, error) {
			n, err := s.Inbox.Count(r.Context())
			if err != nil {
				s.Log.Warn("counting the inbox for the navigation", "err", err)
			}
			return n, err
		}
	}
	if c, err := r.Cookie("pocdir_flash"); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			p.Flash = l.T(v)
		}
	}
	return p
}

// withError puts an application error on the page: field errors next to
// their fields and in the summary, anything else at the top.
func (p *Page) withError(err error) *Page {
	e := app.AsError(err)
	fields := e.Fields
	if len(fields) == 0 && e.Field != "" {
		fields = []*app.Error{e}
	}
	for _, f := range fields {
		msg := p.TMap(f.Key, f.Args)
		if _, dup := p.Errors[f.Field]; !dup {
			p.Errors[f.Field] = msg
			p.ErrorList = append(p.ErrorList, FieldMessage{Field: f.Field, Message: msg})
		}
	}
	if len(fields) == 0 {
		p.Error = p.TMap(e.Key, e.Args)
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	page, ok := s.tmpl.pages[name]
	if !ok {
		panic("no template " + name)
	}
	if p.Flash != "" {
		http.SetCookie(w, &http.Cookie{Name: "pocdir_flash", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxKeptBuffer {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := s.tmpl.set.ExecuteTemplate(buf, page, p); err != nil {
		s.logInternal(r, "render", err, "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderBuffers keep the buffers pages are rendered into (a page is
// written whole, or not at all when its template fails): growing a new one
// for each page was a tenth of what a page allocated. A buffer grown past
// maxKeptBuffer (the directory of every State) is left to the collector.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxKeptBuffer = 1 << 20

// staticFiles are served under content-hashed names, gzip-compressed once.
type staticFiles struct {
	css   string // hashed name of the stylesheet
	js    string // hashed name of the passkey script
	files map[string]staticFile
}

type staticFile struct {
	body, gz []byte
	ctype    string
}

func loadStatic() *staticFiles {
	sf := &staticFiles{files: map[string]staticFile{}}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, _ := staticFS.ReadFile("static/" + e.Name())
		sum := sha256.Sum256(b)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		ctype := "application/octet-stream"
		switch ext {
		case ".css":
			ctype = "text/css; charset=utf-8"
			if e.Name() == "app.css" {
				sf.css = "/static/" + hashed
			}
		case ".svg":
			ctype = "image/svg+xml"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
			if e.Name() == "passkey.js" {
				sf.js = "/static/" + hashed
			}
		}
		sf.files[hashed] = staticFile{body: b, gz: gz.Bytes(), ctype: ctype}
	}
	return sf
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static.files[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	if app.AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", fmt.Sprint(len(f.gz)))
		w.Write(f.gz)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(f.body)))
	w.Write(f.body)
}

func (s *Server) langs() []langOption {
	var out []langOption
	for _, l := range s.Catalog.Languages() {
		out = append(out, langOption{Code: l, Name: display.Self.Name(language.Make(l))})
	}
	return out
}
