package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/regional"
)

// The regional directories (C10, nominate once): the bodies' lists that the
// Secretariat imports, the progress of an import, each body's contacts
// with their matches to review, a State's contacts, from which its focal
// point nominates, and a body's PoCs exported in the same form.

type regionalData struct {
	Bodies  []*regional.BodySummary
	Known   []string
	Columns []string
}

func (s *Server) regionalPage(w http.ResponseWriter, r *http.Request) {
	s.renderRegional(w, r, http.StatusOK, nil)
}

func (s *Server) renderRegional(w http.ResponseWriter, r *http.Request, status int, err error) {
	bodies, berr := s.Regional.Bodies(r.Context())
	if berr != nil {
		s.fail(w, r, berr)
		return
	}
	p := s.page(r, "regional.title", &regionalData{Bodies: bodies, Known: directory.Bodies, Columns: regional.Columns})
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "regional.html", p)
}

// maxRegionalFile bounds the upload: the file and the form around it.
const maxRegionalFile = regional.MaxFile + 64<<10

func (s *Server) regionalImport(w http.ResponseWriter, r *http.Request) {
	if err := parseUpload(w, r, maxRegionalFile); err != nil {
		s.fail(w, r, err)
		return
	}
	var data []byte
	if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
		f, err := fh[0].Open()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data, err = io.ReadAll(io.LimitReader(f, regional.MaxFile+1))
		f.Close()
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(data) == 0 {
		s.renderRegional(w, r, http.StatusBadRequest, app.FieldError("file", "error.regional_no_file", "choose the file to import", nil))
		return
	}
	imp, err := s.Regional.Import(r.Context(), data)
	if err != nil {
		if app.ErrorCode(err) != app.Invalid {
			s.fail(w, r, err)
			return
		}
		s.renderRegional(w, r, s.errorStatus(r, err), err)
		return
	}
	seeOther(w, r, "/regional/imports/"+strconv.FormatInt(imp.ID, 10))
}

// regionalImportPage follows an import's matching: how far it has gone,
// and a link to look again (not a timed reload, which WCAG 2.2.1 rules out:
// a reader must not lose their place).
func (s *Server) regionalImportPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "regional_import")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	imp, err := s.Regional.ImportProgress(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "regional_import.html", s.page(r, "regional.import_title", imp))
}

type regionalContactsData struct {
	Body, State string
	StateName   string
	Contacts    []*regional.Contact
	Secretariat bool
}

// CanReview reports whether the reader may confirm or reject the match.
func (d *regionalContactsData) CanReview(a *app.Actor, c *regional.Contact) bool {
	return c.PoCID != nil && !a.ReadOnly && (a.IsSecretariat() || a.IsFocalPointOf(c.State))
}

// CanNominate reports whether the reader may nominate from the contact.
func (d *regionalContactsData) CanNominate(a *app.Actor, c *regional.Contact) bool {
	return !a.ReadOnly && a.IsFocalPointOf(c.State) && (c.Status == regional.StatusUnmatched || c.Status == regional.StatusRejected)
}

// regionalBodyPage lists a body's contacts (a State's users: their
// State's).
func (s *Server) regionalBodyPage(w http.ResponseWriter, r *http.Request) {
	body := r.PathValue("body")
	list, err := s.Regional.Contacts(r.Context(), body, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &regionalContactsData{Body: body, Contacts: list, Secretariat: app.ActorFrom(r.Context()).IsSecretariat()}
	s.render(w, r, http.StatusOK, "regional_contacts.html", s.page(r, "regional.body_title", d))
}

// regionalStatePage lists a State's regional contacts, in every body.
func (s *Server) regionalStatePage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	st, ok := directory.ReferenceState(code)
	if !ok {
		s.fail(w, r, app.ErrNotFound("state"))
		return
	}
	list, err := s.Regional.Contacts(r.Context(), "", code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "regional.state_title", nil)
	p.Data = &regionalContactsData{State: code, StateName: p.StateName(st.ISO2, st.Name), Contacts: list}
	s.render(w, r, http.StatusOK, "regional_contacts.html", p)
}

func (s *Server) regionalReview(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "regional_contact")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	decision := r.PathValue("decision")
	if decision != "confirm" && decision != "reject" {
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Regional.Review(r.Context(), id, decision == "confirm")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := "/regional/bodies/" + url.PathEscape(c.Body)
	if r.PostForm.Get("from") == "state" {
		back = "/states/" + c.State + "/regional"
	}
	s.done(w, r, "regional.reviewed_"+decision, back+"#rc-"+strconv.FormatInt(c.ID, 10))
}

func (s *Server) regionalRematch(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	body := r.PathValue("body")
	if _, err := s.Regional.Rematch(r.Context(), body); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "regional.rematching", "/regional/bodies/"+url.PathEscape(body))
}

// regionalExport writes a body's PoCs in the form of an import.
func (s *Server) regionalExport(w http.ResponseWriter, r *http.Request) {
	body := r.PathValue("body")
	rows, err := s.Regional.Export(r.Context(), body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", export.CSVType)
	w.Header().Set("Content-Disposition", `attachment; filename="pocdir-regional-`+url.PathEscape(body)+`.csv"`)
	cw := export.NewCSV(w)
	cw.Write(regional.Columns)
	for _, row := range rows {
		cw.Write([]string{row.Body, row.State, row.Ref, row.Agency, row.Function, string(row.Level), regional.FormatChannels(row.Channels)})
	}
	cw.Flush()
}
