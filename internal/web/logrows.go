package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/directory"
)

// logRow is an entry of the accountability log as a person reads it: the
// event in the reader's language, who acted, and the object named and
// linked where the reader may open it. The entry itself (its type, its
// object as the log holds it) stays beside, for machines and engineers.
type logRow struct {
	*auditlog.Entry
	Event  string
	Actor  logActor
	Object logObject
}

// logActor is who acted: an address, the acting State, or pocdir itself.
type logActor struct {
	Email string
	State string // the State's name
	// Named is who acted when it was no person: pocdir, an answer link.
	Named string
	// Observer is the organisation of an observer who acted.
	Observer string
}

// logObject is an entry's object. Name is empty where pocdir has no better
// name to give than the raw object; Href is empty where the reader may not
// open it (or there is no page).
type logObject struct {
	Raw string
	// Kind says what the object is ("Template"), Name which one. Lang is
	// set when Name is in another language than the page's.
	Kind, Name, Lang string
	Href             string
}

// EventName returns an event type in the page's language; a type that the
// catalog does not know (one written by an older pocdir) is shown as it is.
func (p *Page) EventName(typ string) string {
	key := "logevent." + typ
	if s := p.T(key); s != key {
		return s
	}
	return typ
}

// logRows names the entries' objects for the reader of p. Each object is
// looked up through the service that owns it, with the reader's context, so
// that a link appears only where the reader may open the page: an object
// the reader may not see is shown as the log holds it, which tells no more
// than the entry already does.
func (s *Server) logRows(ctx context.Context, p *Page, entries []*auditlog.Entry) ([]*logRow, error) {
	n := &objectNamer{s: s, ctx: ctx, p: p, a: app.ActorFrom(ctx), seen: map[string]logObject{}}
	var refs []string
	for _, e := range entries {
		if kind, rest, _ := strings.Cut(e.Object, ":"); kind == "comm" {
			ref, _, _ := strings.Cut(rest, "/")
			refs = append(refs, ref)
		}
	}
	if len(refs) > 0 {
		var err error
		if n.comms, err = s.Comms.Locate(ctx, refs); err != nil {
			return nil, err
		}
	}
	// Observers are marked wherever they appear: the Secretariat (the one
	// reader of their entries, which name no State) learns who they are.
	observers := map[string]string{}
	if n.a.IsSecretariat() {
		list, err := s.Accounts.Observers(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range list {
			observers[o.User.Email] = o.User.Organisation
		}
	}
	rows := make([]*logRow, 0, len(entries))
	for _, e := range entries {
		obj, err := n.object(e.Event)
		if err != nil {
			return nil, err
		}
		actor := p.actorOf(e.Event)
		actor.Observer = observers[e.ActorEmail]
		rows = append(rows, &logRow{Entry: e, Event: p.EventName(e.Type), Actor: actor, Object: obj})
	}
	return rows, nil
}

// actorOf names who acted. Entries on communications name the State, not
// the person (auditlog's ByState).
func (p *Page) actorOf(ev auditlog.Event) logActor {
	switch ev.ActorEmail {
	case app.System.Email:
		return logActor{Named: p.T("log.actor_system")}
	case "answer-link":
		return logActor{Named: p.T("log.actor_answer_link")}
	}
	a := logActor{Email: ev.ActorEmail}
	if ev.ActorState != "" {
		a.State = p.NameOf(ev.ActorState)
	}
	return a
}

type objectNamer struct {
	s     *Server
	ctx   context.Context
	p     *Page
	a     *app.Actor
	comms map[string]int64 // reference → id, of those the reader may open
	seen  map[string]logObject
}

// object names the object of an event, once per object and page.
func (n *objectNamer) object(ev auditlog.Event) (logObject, error) {
	if o, ok := n.seen[ev.Object]; ok {
		return o, nil
	}
	o, err := n.name(ev)
	if err != nil {
		return o, err
	}
	n.seen[ev.Object] = o
	return o, nil
}

// hidden reports whether a lookup's error means that the reader may not
// see the object (or that it is gone): the object is then shown raw.
func hidden(err error) bool {
	c := app.ErrorCode(err)
	return c == app.NotFound || c == app.Forbidden
}

func (n *objectNamer) name(ev auditlog.Event) (logObject, error) {
	p, o := n.p, logObject{Raw: ev.Object}
	kind, rest, _ := strings.Cut(ev.Object, ":")
	id, idErr := strconv.ParseInt(rest, 10, 64)
	// The State an entry concerns first: a change's, an account's.
	state := ""
	if len(ev.States) > 0 {
		state = ev.States[0]
	}
	switch kind {
	case "state":
		if _, err := n.s.Directory.Get(n.ctx, rest); err != nil {
			return o, ignoreHidden(err)
		}
		o.Name, o.Href = p.NameOf(rest), "/states/"+rest
	case "poc":
		if idErr != nil {
			return o, nil
		}
		poc, err := n.s.Directory.GetPoC(n.ctx, id)
		switch {
		case err == nil:
			o.Kind, o.Name = p.T("log.kind_poc_of", "State", p.NameOf(poc.State)), poc.Agency
			o.Href = "/states/" + poc.State + "#poc-" + rest
		case !hidden(err):
			return o, err
		case state != "":
			// A PoC no longer (or not yet) listed: its State's history
			// holds what was changed.
			o.Name, o.Href = p.T("log.object_poc_unlisted", "State", p.NameOf(state)), "/states/"+state+"/history"
		}
	case "comm":
		ref, _, _ := strings.Cut(rest, "/")
		if cid, ok := n.comms[ref]; ok {
			o.Kind, o.Name, o.Href = p.T("log.kind_comm"), ref, "/comms/"+strconv.FormatInt(cid, 10)
		}
	case "template":
		if idErr != nil {
			return o, nil
		}
		t, err := n.s.Comms.Template(n.ctx, id, 0)
		if err != nil {
			return o, ignoreHidden(err)
		}
		o.Kind, o.Name, o.Href = p.T("log.kind_template"), t.Name.In(p.Lang()), "/templates/"+rest
		if t.Name[p.Lang()] == "" {
			o.Lang = "en"
		}
	case "check", "check_target":
		if idErr != nil {
			return o, nil
		}
		get := n.s.Checks.Heading
		if kind == "check_target" {
			get = n.s.Checks.TargetCampaign
		}
		c, err := get(n.ctx, id)
		if err != nil {
			return o, ignoreHidden(err)
		}
		o.Kind, o.Name, o.Href = p.T("log.kind_check"), c.Title, "/checks/"+strconv.FormatInt(c.ID, 10)
	case "nomination":
		if idErr != nil {
			return o, nil
		}
		nom, err := n.s.Directory.Nomination(n.ctx, id)
		if err != nil {
			return o, ignoreHidden(err)
		}
		o.Name, o.Href = p.T("log.object_nomination", "ID", rest, "State", p.NameOf(nom.State)), "/nominations/"+rest
	case "user", "invitation", "token", "session":
		// An account's objects are named by whose they are; the page of
		// who can act for a State lists its accounts, invitations and
		// tokens, to those who may see it.
		o.Kind = p.T(accountKinds[kind])
		if state == "" {
			o.Name = p.T("role.secretariat")
			if kind != "session" && n.a.IsSecretariat() {
				o.Href = "/users"
			}
			break
		}
		o.Name = p.NameOf(state)
		if kind != "session" && account.CanSeeAccess(n.a, state) {
			o.Href = "/states/" + state + "/access"
		}
	case "routing":
		// A State's routing preferences are seen by that State only.
		o.Kind, o.Name = p.T("comm.routing_title"), p.NameOf(rest)
		if n.a.State != "" && n.a.State == rest {
			o.Href = "/comms/routing"
		}
	case "export":
		o.Kind, o.Name = p.T("log.kind_export"), rest
	case "cii":
		// Every State's list is read by every user.
		if directory.KnownState(rest) {
			o.Kind, o.Name, o.Href = p.T("log.kind_cii"), p.NameOf(rest), "/states/"+rest+"/cii"
		}
	case "regional":
		body, imp, _ := strings.Cut(rest, "/")
		o.Kind, o.Name = p.T("log.kind_regional"), body
		if n.a.IsSecretariat() {
			o.Href = "/regional/imports/" + imp
		}
	case "capacity-need", "capacity-offer", "capacity-match", "capacity-activity", "capacity-plan":
		if idErr != nil {
			return o, nil
		}
		return n.capacityObject(o, kind, id)
	case "exercise":
		if idErr != nil {
			return o, nil
		}
		e, err := n.s.Exercises.Exercise(n.ctx, id)
		if err != nil {
			return o, ignoreHidden(err)
		}
		o.Kind, o.Name, o.Href = p.T("log.kind_exercise"), e.Name, "/exercises/"+rest
	}
	return o, nil
}

// accountKinds names the kinds of an account's objects.
var accountKinds = map[string]string{"user": "log.kind_user", "invitation": "log.kind_invitation", "token": "log.kind_token", "session": "log.kind_session"}

// ignoreHidden is nil for an error that hides the object, err otherwise.
func ignoreHidden(err error) error {
	if hidden(err) {
		return nil
	}
	return err
}
