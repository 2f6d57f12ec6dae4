package web

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
)

// Communications between States (their list: comms_list.go): composing
// from a template, the thread with each recipient's progress, and the acts
// on it (acknowledge, answer, escalate, share, consent). The Secretariat
// sees metadata only: the service leaves the content out.

type composeData struct {
	Templates []*comms.Template
	T         *comms.Template
	States    []*directory.Summary
	Chosen    map[string]bool
	Routing   []*directory.Summary // the chosen States that say how to initiate contact
	Parent    *comms.Communication
	Draft     *comms.Communication
	Urgencies []string
	Lists     map[string][]string
	TLPs      []string
	Idem      string
	Exts      string
	Imported  int
	Lang      string
	// OwnSectors are the chosen States' own sectors of critical
	// information infrastructure, which the sector field offers beside the
	// reference list.
	OwnSectors []ownSectors
	// To are the States chosen before the template (?to=, from a State's
	// page).
	To []string
	// The recipient picker: the States by UN regional group (the sender's
	// own left out; those without a PoC shown but not choosable), as
	// filtered by name; the chosen ones by name; those chosen that the
	// filter hides, kept as they are.
	Groups     []stateGroup
	Filter     string
	ChosenList []*directory.Summary
	Hidden     []string
}

// ownSectors are a recipient State's own sectors of critical information
// infrastructure, as the compose form's sector field offers them.
type ownSectors struct {
	State, Name string
	Sectors     []cii.Sector
}

// ownSectors finds the chosen States' own sectors, in the order of the
// chosen States' names.
func (s *Server) ownSectors(r *http.Request, p *Page, d *composeData) error {
	var codes []string
	for _, st := range d.ChosenList {
		codes = append(codes, st.Code)
	}
	if len(codes) == 0 {
		return nil
	}
	lists, err := s.CII.Lists(r.Context(), codes)
	if err != nil {
		return err
	}
	for _, code := range codes {
		l := lists[code]
		if l == nil {
			continue
		}
		g := ownSectors{State: code, Name: p.NameOf(code)}
		for _, sec := range l.Sectors {
			if sec.Own() {
				g.Sectors = append(g.Sectors, sec)
			}
		}
		if len(g.Sectors) > 0 {
			d.OwnSectors = append(d.OwnSectors, g)
		}
	}
	return nil
}

// stateGroup is a UN regional group's States in the recipient picker.
type stateGroup struct {
	Group  string
	States []*directory.Summary
	// Open: a State of it is chosen, or a filter is applied.
	Open bool
}

// maxFilter is the longest name filter of the recipient picker.
const maxFilter = 100

// picker arranges the States of the compose form's recipient picker.
func (d *composeData) picker(p *Page, own string, filter string) {
	if len([]rune(filter)) > maxFilter {
		filter = string([]rune(filter)[:maxFilter])
	}
	d.Filter = strings.TrimSpace(filter)
	q := strings.ToLower(d.Filter)
	byGroup := map[string]*stateGroup{}
	for _, g := range directory.Groups {
		byGroup[g] = &stateGroup{Group: g}
	}
	for _, st := range d.States {
		if st.Code == own {
			continue
		}
		name := p.StateName(st.ISO2, st.Name)
		if d.Chosen[st.Code] {
			d.ChosenList = append(d.ChosenList, st)
		}
		if q != "" && !strings.Contains(strings.ToLower(name), q) && !strings.Contains(strings.ToLower(st.Name), q) && !strings.EqualFold(st.Code, q) {
			if d.Chosen[st.Code] {
				d.Hidden = append(d.Hidden, st.Code)
			}
			continue
		}
		g := byGroup[st.Group]
		if g == nil {
			continue
		}
		g.States = append(g.States, st)
		if d.Chosen[st.Code] || q != "" {
			g.Open = true
		}
	}
	for _, g := range directory.Groups {
		if len(byGroup[g].States) > 0 {
			d.Groups = append(d.Groups, *byGroup[g])
		}
	}
}

func newIdemKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// composeForm shows the template choice, or the form of a template, with
// the values of f (nil for a new communication).
func (s *Server) composeForm(w http.ResponseWriter, r *http.Request, status int, d *composeData, f url.Values, err error) {
	a := app.ActorFrom(r.Context())
	if a.State == "" || a.IsSecretariat() || a.ReadOnly {
		s.fail(w, r, app.Errorf(app.Forbidden, "error.comms_states_only", "only the users of a State send and answer communications"))
		return
	}
	title := "comm.new_title"
	if d.Parent != nil {
		title = "comm.respond_title"
	}
	p := s.page(r, title, d)
	d.Lang, d.Urgencies, d.TLPs, d.Exts, d.Lists = p.Lang(), comms.Urgencies, comms.TLPs, strings.Join(comms.AttachmentExtensions(), " "), comms.Lists
	if d.T == nil {
		list, lerr := s.Comms.Templates(r.Context(), false)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		d.Templates = list
		s.render(w, r, status, "comm_new.html", p)
		return
	}
	states, lerr := s.Directory.List(r.Context(), directory.Filter{})
	if lerr != nil {
		s.fail(w, r, lerr)
		return
	}
	sortByName(p.Lang(), states)
	d.States, d.Chosen = states, map[string]bool{}
	if f == nil {
		f = url.Values{"level": {comms.LevelTechnical}, "fields.urgency": {"medium"}, "fields.tlp": {comms.TLPAmber}}
	}
	for _, c := range f["to_states"] {
		d.Chosen[c] = true
	}
	d.picker(p, a.State, f.Get("filter"))
	if err := s.ownSectors(r, p, d); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, st := range states {
		if d.Chosen[st.Code] && st.InitiateVia != "" {
			d.Routing = append(d.Routing, st)
		}
	}
	if f.Get("idem") == "" {
		f.Set("idem", newIdemKey())
	}
	p.Form = f
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "comm_compose.html", p)
}

func (s *Server) commNewForm(w http.ResponseWriter, r *http.Request) {
	d := &composeData{}
	q := r.URL.Query()
	if pid := q.Get("parent"); pid != "" {
		parent, err := s.Comms.Communication(r.Context(), atoi64(pid))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Parent = parent
		if q.Get("template") == "" {
			q.Set("template", "response")
		}
	}
	if slug := q.Get("template"); slug != "" {
		t, err := s.templateBySlug(r, slug)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.T = t
	}
	var f url.Values
	if d.Parent != nil {
		f = url.Values{"level": {d.Parent.Level}, "fields.urgency": {"medium"}, "fields.tlp": {d.Parent.TLP}}
		if d.Parent.Content != nil {
			f.Set("fields.subject", "Re: "+d.Parent.Content.Subject)
		}
	}
	// "Write to this State" (a State's page) chooses the recipient; the
	// choice of a template carries it on.
	for _, code := range q["to"] {
		if code = strings.ToUpper(code); directory.KnownState(code) && len(d.To) < 10 {
			d.To = append(d.To, code)
		}
	}
	if len(d.To) > 0 && d.Parent == nil {
		f = url.Values{"level": {comms.LevelTechnical}, "fields.urgency": {"medium"}, "fields.tlp": {comms.TLPAmber}, "to_states": d.To}
	}
	s.composeForm(w, r, http.StatusOK, d, f, nil)
}

func (s *Server) templateBySlug(r *http.Request, slug string) (*comms.Template, error) {
	t, err := s.Comms.TemplateBySlug(r.Context(), slug)
	if err == nil && t.Status != "active" {
		return nil, app.ErrNotFound("template")
	}
	return t, err
}

// maxUpload bounds a compose form with its files (the service checks the
// limits per file and in all).
const maxUpload = comms.MaxTotalAttachment + comms.MaxAttachmentBytes + 1<<20

// parseCompose reads the compose form: the fields, the files and the
// action (send, draft, import).
func parseCompose(w http.ResponseWriter, r *http.Request, t *comms.Template) (comms.CommInput, url.Values, []*comms.Attachment, []byte, error) {
	// Text that is refused (a control character pasted with the rest)
	// comes back in the form with its message, so nothing typed is lost.
	perr := parseUpload(w, r, maxUpload)
	if perr != nil && !textProblem(perr) {
		return comms.CommInput{}, nil, nil, nil, perr
	}
	f := url.Values(r.MultipartForm.Value)
	in := comms.CommInput{Template: t.Slug, ToStates: f["to_states"], Level: f.Get("level"), Fields: map[string]string{},
		Draft: f.Get("action") == "draft", IdemKey: f.Get("idem")}
	in.ParentID = atoi64(f.Get("parent"))
	for _, fl := range t.Fields {
		in.Fields[fl.Key] = f.Get("fields." + fl.Key)
	}
	var atts []*comms.Attachment
	for _, fh := range r.MultipartForm.File["attachments"] {
		data, err := readFile(fh)
		if err != nil {
			return in, f, nil, nil, err
		}
		atts = append(atts, &comms.Attachment{Name: fh.Filename, Data: data})
	}
	var imported []byte
	if fhs := r.MultipartForm.File["import"]; len(fhs) > 0 {
		data, err := readFile(fhs[0])
		if err != nil {
			return in, f, nil, nil, err
		}
		imported = data
	}
	return in, f, atts, imported, perr
}

func readFile(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > comms.MaxAttachmentBytes {
		return make([]byte, comms.MaxAttachmentBytes+1), nil // refused by the service with its message
	}
	fd, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	return io.ReadAll(io.LimitReader(fd, comms.MaxAttachmentBytes+1))
}

func (s *Server) commNewSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseUpload(w, r, maxUpload); err != nil && !textProblem(err) {
		s.fail(w, r, err)
		return
	}
	t, err := s.templateBySlug(r, r.FormValue("template"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &composeData{T: t}
	if pid := atoi64(r.FormValue("parent")); pid != 0 {
		if d.Parent, err = s.Comms.Communication(r.Context(), pid); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.composeSubmit(w, r, d, 0)
}

// composeSubmit handles the compose form for a new communication (draft
// 0) or a draft being edited.
func (s *Server) composeSubmit(w http.ResponseWriter, r *http.Request, d *composeData, draft int64) {
	in, f, atts, imported, err := parseCompose(w, r, d.T)
	if err != nil {
		s.composeForm(w, r, http.StatusBadRequest, d, f, err)
		return
	}
	in.Attachments = atts
	if f.Get("action") == "filter" {
		// The recipient picker's name filter: the form comes back with
		// what was typed and the States that match; nothing is saved.
		s.composeForm(w, r, http.StatusOK, d, f, nil)
		return
	}
	if f.Get("action") == "import" {
		inds, problems := comms.ImportIndicators(imported)
		have, _ := comms.ParseIndicators(f.Get("fields.indicators"))
		f.Set("fields.indicators", comms.FormatIndicators(append(have, inds...)))
		d.Imported = len(inds)
		var v app.Validation
		for _, pr := range problems {
			v.Add("import", pr.Key, pr.Message, map[string]any{"Line": pr.Line, "Text": pr.Text})
		}
		if len(imported) == 0 {
			v.Add("import", "error.required", "required", nil)
		}
		s.composeForm(w, r, http.StatusOK, d, f, v.Err())
		return
	}
	// The first click on "send" checks and keeps the communication as a
	// draft; the confirmation page shows what will go to whom, and sends.
	in.Review = f.Get("action") == "send"
	var c *comms.Communication
	if draft != 0 {
		var remove []int64
		for _, v := range f["remove"] {
			remove = append(remove, atoi64(v))
		}
		c, err = s.Comms.UpdateDraft(r.Context(), draft, in, remove)
	} else {
		c, err = s.Comms.Compose(r.Context(), in)
	}
	if err != nil {
		code := app.ErrorCode(err)
		if code == app.Forbidden || code == app.NotFound || code == app.Internal {
			s.fail(w, r, err)
			return
		}
		s.composeForm(w, r, s.errorStatus(r, err), d, f, err)
		return
	}
	if in.Review && c.Status == comms.StatusDraft {
		seeOther(w, r, "/comms/"+strconv.FormatInt(c.ID, 10)+"/confirm")
		return
	}
	flash := "comm.flash_sent"
	if c.Status == comms.StatusDraft {
		flash = "comm.flash_draft"
	}
	s.done(w, r, flash, "/comms/"+strconv.FormatInt(c.ID, 10))
}

// commConfirm is the confirmation before sending: what goes, to which
// PoCs of which State, the deadline in each one's time; sending is one
// more click.
func (s *Server) commConfirm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pv, err := s.Comms.Preview(r.Context(), id)
	if code := app.ErrorCode(err); err != nil && code == app.Invalid {
		// Not ready to send (a field missing, a deadline passed): the
		// page says what, and offers to change it, not to send.
		c, cerr := s.Comms.Communication(r.Context(), id)
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		p := s.page(r, "comm.confirm_title", &comms.Preview{Comm: c})
		s.render(w, r, http.StatusUnprocessableEntity, "comm_confirm.html", p.withError(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "comm_confirm.html", s.page(r, "comm.confirm_title", pv))
}

// draft loads a draft of the actor's State for its compose form.
func (s *Server) draft(r *http.Request) (*composeData, error) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		return nil, err
	}
	c, err := s.Comms.Communication(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if c.Status != comms.StatusDraft || !c.Viewer.Sender {
		return nil, app.Errorf(app.Conflict, "error.comms_not_draft", "this communication was sent: it can no longer be changed")
	}
	t, err := s.Comms.TemplateBySlug(r.Context(), c.TemplateSlug)
	if err != nil {
		return nil, err
	}
	d := &composeData{T: t, Draft: c}
	if c.ParentID != 0 {
		d.Parent, _ = s.Comms.Communication(r.Context(), c.ParentID)
	}
	return d, nil
}

func (s *Server) commEditForm(w http.ResponseWriter, r *http.Request) {
	d, err := s.draft(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := d.Draft.Input()
	f := url.Values{"level": {in.Level}, "to_states": in.ToStates, "fields.indicators": {comms.FormatIndicators(in.Indicators)}}
	for k, v := range in.Fields {
		f.Set("fields."+k, v)
	}
	if rb := d.Draft.RespondBy; rb != nil {
		f.Set("fields.respond_by", rb.UTC().Format("2006-01-02T15:04")) // the form's datetime-local
	}
	s.composeForm(w, r, http.StatusOK, d, f, nil)
}

func (s *Server) commEditSubmit(w http.ResponseWriter, r *http.Request) {
	d, err := s.draft(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.composeSubmit(w, r, d, d.Draft.ID)
}

type commData struct {
	// MyCII are the sectors of the reader's State's list of critical
	// information infrastructure in force: a sector named in the
	// communication is marked when it is one of them.
	MyCII    []string
	C        *comms.Communication
	Tpl      *comms.Template
	ByState  []stateLine
	Thread   *comms.Thread
	States   []*directory.Summary
	Routing  []*directory.Summary
	Outcomes []string
	// Pending are consent requests the sender has not answered.
	Pending []*comms.Event
	Lang    string
	Now     time.Time
}

// commByRef answers a notification's link, which names the communication
// by its reference (the e-mail is written before the communication has its
// id): it sends the reader on to the communication's page, when they may
// open it, as the page itself would decide.
func (s *Server) commByRef(w http.ResponseWriter, r *http.Request, ref string) {
	if len(ref) > 40 {
		s.fail(w, r, app.ErrNotFound("communication"))
		return
	}
	ids, err := s.Comms.Locate(r.Context(), []string{ref})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, ok := ids[ref]
	if !ok {
		s.fail(w, r, app.ErrNotFound("communication"))
		return
	}
	http.Redirect(w, r, "/comms/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (s *Server) commPage(w http.ResponseWriter, r *http.Request) {
	if ref := r.PathValue("id"); strings.HasPrefix(ref, comms.RefPrefix) {
		s.commByRef(w, r, ref)
		return
	}
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Comms.Communication(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	th, err := s.Comms.Thread(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &commData{C: c, Thread: th, Outcomes: comms.Outcomes, Now: s.Comms.Now(), ByState: byState(c)}
	if a := app.ActorFrom(r.Context()); a.State != "" && c.Content != nil {
		lists, err := s.CII.Lists(r.Context(), []string{a.State})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if l := lists[a.State]; l != nil {
			for _, sec := range l.Sectors {
				d.MyCII = append(d.MyCII, sec.Key)
			}
		}
	}
	if d.Tpl, err = s.Comms.Template(r.Context(), c.TemplateID, c.TemplateVersion); err != nil {
		s.fail(w, r, err)
		return
	}
	if !c.Viewer.Metadata {
		states, err := s.Directory.List(r.Context(), directory.Filter{})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sortByName(s.lang(r).Lang(), states)
		d.States = states
		for _, st := range states {
			if st.InitiateVia != "" && slices.Contains(c.ToStates, st.Code) && c.Viewer.Sender {
				d.Routing = append(d.Routing, st)
			}
		}
	}
	answered := map[int64]bool{}
	for _, e := range th.Events {
		if e.Kind == comms.EvConsentGranted || e.Kind == comms.EvConsentRefused {
			answered[e.RefID] = true
		}
	}
	for _, e := range th.Events {
		if e.Kind == comms.EvConsentRequested && e.CommID == c.ID && !answered[e.ID] {
			d.Pending = append(d.Pending, e)
		}
	}
	p := s.page(r, "comm.title", d)
	d.Lang = p.Lang()
	p.Title = c.Ref
	if c.Content != nil && c.Content.Subject != "" {
		p.Title = c.Content.Subject + " · " + c.Ref
	}
	s.render(w, r, http.StatusOK, "comm.html", p)
}

// commAckForm is the acknowledgement screen: it says, before the button,
// that acknowledging does not mean agreeing.
func (s *Server) commAckForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Comms.Communication(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !c.Viewer.Recipient {
		s.fail(w, r, app.Errorf(app.Forbidden, "error.comms_recipient_only", "only a recipient State can do this"))
		return
	}
	s.render(w, r, http.StatusOK, "comm_ack.html", s.page(r, "comm.ack_title", &commData{C: c}))
}

// commAct handles the acts on a communication that are one button: acknowledge, escalate, send (a draft).
func (s *Server) commAct(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := parseForm(w, r, 64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	flash := ""
	switch r.PathValue("act") {
	case "ack":
		err, flash = errOnly(s.Comms.Acknowledge(r.Context(), id)), "comm.flash_acked"
	case "escalate":
		err, flash = errOnly(s.Comms.Escalate(r.Context(), id)), "comm.flash_escalated"
	case "send":
		err, flash = errOnly(s.Comms.Send(r.Context(), id)), "comm.flash_sent"
	case "reply":
		_, err = s.Comms.Reply(r.Context(), id, r.PostForm.Get("outcome"), r.PostForm.Get("note"))
		flash = "comm.flash_replied"
	case "share":
		var forwarded bool
		forwarded, err = s.Comms.Share(r.Context(), id, r.PostForm.Get("state"), r.PostForm.Get("note"))
		flash = "comm.flash_consent_asked"
		if forwarded {
			flash = "comm.flash_forwarded"
		}
	case "consent":
		grant := r.PostForm.Get("grant") == "1"
		_, err = s.Comms.Consent(r.Context(), id, atoi64(r.PostForm.Get("request")), grant)
		flash = "comm.flash_consent_refused"
		if grant {
			flash = "comm.flash_consent_granted"
		}
	case "review":
		confirm := r.PostForm.Get("decision") == "confirm"
		_, err = s.Comms.ReviewMailAct(r.Context(), id, atoi64(r.PostForm.Get("event")), confirm)
		flash = "comm.flash_email_rejected"
		if confirm {
			flash = "comm.flash_email_confirmed"
		}
	default:
		s.fail(w, r, app.ErrNotFound("page"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, flash, "/comms/"+strconv.FormatInt(id, 10))
}

// errOnly keeps the error of a service call whose result the handler does
// not need.
func errOnly(_ *comms.Communication, err error) error { return err }

func (s *Server) commSTIX(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, name, err := s.Comms.STIX(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
}

func (s *Server) commAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "communication")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	aid, err := pathID(r, "aid", "attachment")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.Comms.AttachmentFile(r.Context(), id, aid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveAttachment(w, a)
}

// serveAttachment sends a file as a download, never rendered in the
// portal's origin.
func serveAttachment(w http.ResponseWriter, a *comms.Attachment) {
	w.Header().Set("Content-Type", a.Type)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(a.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Write(a.Data)
}

type routingData struct {
	States    []*directory.Summary
	Tensions  []string
	CanManage bool
}

func (s *Server) routingPage(w http.ResponseWriter, r *http.Request) {
	a := app.ActorFrom(r.Context())
	list, err := s.Comms.Tensions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	states, err := s.Directory.List(r.Context(), directory.Filter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sortByName(s.lang(r).Lang(), states)
	s.render(w, r, http.StatusOK, "comm_routing.html", s.page(r, "comm.routing_title",
		&routingData{States: states, Tensions: list, CanManage: a.IsFocalPointOf(a.State) && !a.ReadOnly}))
}

func (s *Server) routingSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 16<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Comms.SetTension(r.Context(), r.PostForm.Get("state"), r.PostForm.Get("on") == "1"); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "comm.flash_routing", "/comms/routing")
}
