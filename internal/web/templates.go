package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
)

// Communication templates: every user reads them; the Secretariat creates,
// revises and retires them.

type templatesData struct {
	List    []*comms.Template
	Manage  bool
	Retired bool
}

func (s *Server) templatesPage(w http.ResponseWriter, r *http.Request) {
	a := app.ActorFrom(r.Context())
	retired := r.URL.Query().Get("retired") == "1"
	list, err := s.Comms.Templates(r.Context(), retired)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "comm_templates.html", s.page(r, "template.list_title",
		&templatesData{List: list, Manage: a.IsSecretariat() && !a.ReadOnly, Retired: retired}))
}

type templateData struct {
	T      *comms.Template
	Manage bool
	Lang   string
}

func (s *Server) templatePage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "template")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Comms.Template(r.Context(), id, atoi(r.URL.Query().Get("version")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := app.ActorFrom(r.Context())
	p := s.page(r, "template.title", nil)
	p.Data = &templateData{T: t, Manage: a.IsSecretariat() && !a.ReadOnly, Lang: p.Lang()}
	p.Title = t.Name.In(p.Lang())
	s.render(w, r, http.StatusOK, "comm_template.html", p)
}

func (s *Server) templateStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "template")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	action := r.PathValue("action")
	if action != "retire" && action != "reinstate" {
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	if _, err := s.Comms.SetTemplateStatus(r.Context(), id, action == "reinstate"); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "template.flash_saved", "/templates/"+strconv.FormatInt(id, 10))
}

// templateFormData is the template form: the name and description in each
// UN language, and one row per field (with blank rows to add fields
// without script).
type templateFormData struct {
	New       bool
	In        comms.TemplateInput
	Rows      []comms.Field
	Kinds     []string
	Lists     []string
	Languages []string
}

func newTemplateForm(in comms.TemplateInput, isNew bool) *templateFormData {
	rows := append(append([]comms.Field(nil), in.Fields...), make([]comms.Field, 3)...)
	return &templateFormData{New: isNew, In: in, Rows: rows, Kinds: comms.Kinds, Lists: comms.ListNames(), Languages: comms.Languages}
}

func parseTemplateForm(f url.Values) comms.TemplateInput {
	in := comms.TemplateInput{Slug: strings.TrimSpace(f.Get("slug")), Name: comms.Text{}, Description: comms.Text{}, Version: atoi(f.Get("version"))}
	for _, l := range comms.Languages {
		in.Name[l] = f.Get("name_" + l)
		in.Description[l] = f.Get("description_" + l)
	}
	rows := min(atoi(f.Get("rows")), 60)
	for i := 0; i < rows; i++ {
		n := strconv.Itoa(i)
		key := strings.TrimSpace(f.Get("key_" + n))
		if key == "" {
			continue
		}
		fl := comms.Field{Key: key, Kind: f.Get("kind_" + n), Required: f.Get("required_"+n) == "1", Label: comms.Text{}, Help: comms.Text{},
			List: f.Get("list_" + n)}
		for _, l := range comms.Languages {
			fl.Label[l] = f.Get("label_" + n + "_" + l)
			fl.Help[l] = f.Get("help_" + n + "_" + l)
		}
		in.Fields = append(in.Fields, fl)
	}
	return in
}

func (s *Server) templateForm(w http.ResponseWriter, r *http.Request) {
	a := app.ActorFrom(r.Context())
	if !a.IsSecretariat() || a.ReadOnly {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	if r.PathValue("id") == "" {
		in := comms.TemplateInput{Fields: append([]comms.Field(nil), comms.Shipped[0].Fields...)}
		s.render(w, r, http.StatusOK, "comm_template_form.html", s.page(r, "template.new_title", newTemplateForm(in, true)))
		return
	}
	id, err := pathID(r, "id", "template")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Comms.Template(r.Context(), id, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := comms.TemplateInput{Slug: t.Slug, Name: t.Name, Description: t.Description, Fields: t.Fields, Version: t.Version}
	s.render(w, r, http.StatusOK, "comm_template_form.html", s.page(r, "template.edit_title", newTemplateForm(in, false)))
}

func (s *Server) templateSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 128<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	in := parseTemplateForm(r.PostForm)
	var t *comms.Template
	var err error
	isNew := r.PathValue("id") == ""
	title := "template.new_title"
	if isNew {
		t, err = s.Comms.CreateTemplate(r.Context(), in)
	} else {
		title = "template.edit_title"
		var id int64
		if id, err = pathID(r, "id", "template"); err == nil {
			t, err = s.Comms.ReviseTemplate(r.Context(), id, in)
		}
	}
	if err != nil {
		if app.ErrorCode(err) == app.Forbidden || app.ErrorCode(err) == app.NotFound {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, s.errorStatus(r, err), "comm_template_form.html", s.page(r, title, newTemplateForm(in, isNew)).withError(err))
		return
	}
	s.done(w, r, "template.flash_saved", "/templates/"+strconv.FormatInt(t.ID, 10))
}
