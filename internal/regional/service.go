package regional

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// Service is the regional directories' rules and authorization: the
// Secretariat imports, reviews and exports every body's list; a State's
// users see their State's regional contacts, and its focal point reviews
// their matches and nominates from them.
type Service struct {
	DB        *db.DB
	Now       app.Clock
	directory *directory.Service
	// batch is how many contacts a matching step handles.
	batch int
}

// New returns the regional directories' service.
func New(d *db.DB, now app.Clock, dir *directory.Service) *Service {
	return &Service{DB: d, Now: now, directory: dir, batch: 200}
}

// The regional events of the log.
var _ = auditlog.Register("regional.imported", "regional.match_confirmed", "regional.match_rejected", "regional.exported")

// canSee reports whether the actor may see a State's regional contacts.
func canSee(a *app.Actor, state string) bool { return a.IsSecretariat() || a.State == state }

// canReview reports whether the actor may confirm or reject a match: the
// Secretariat, or the State's focal point.
func canReview(a *app.Actor, state string) bool {
	return !a.ReadOnly && (a.IsSecretariat() || a.IsFocalPointOf(state))
}

// Import reads a regional directory's file and makes it the body's list:
// contacts are added, updated (a confirmed or rejected match stays so) or,
// when the file no longer has them, removed. Matching follows in the
// background (Step), which the import's Done counts. A file with any row
// that cannot be read changes nothing: the error lists every such row.
func (s *Service) Import(ctx context.Context, data []byte) (*Import, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.Errorf(app.Forbidden, "error.regional_secretariat", "only the Secretariat imports regional directories")
	}
	rows, problems := Parse(data)
	if len(problems) > 0 {
		return nil, problemsError(problems)
	}
	now := s.Now()
	imp := &Import{Body: rows[0].Body, Total: len(rows), By: a.Email, At: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		old, err := contactsWhere(ctx, tx, `c.body = $1`, imp.Body)
		if err != nil {
			return err
		}
		byKey := map[string]*Contact{}
		for _, c := range old {
			byKey[c.key] = c
		}
		if imp.ID, err = insertImport(ctx, tx, imp, a.UserID); err != nil {
			return err
		}
		kept := map[string]bool{}
		for i := range rows {
			r := &rows[i]
			k := r.key()
			kept[k] = true
			c := &Contact{Body: r.Body, State: r.State, Ref: r.Ref, Agency: r.Agency, Function: r.Function, Level: r.Level, Channels: r.Channels,
				Status: StatusPending, ImportID: imp.ID, UpdatedAt: now, key: k}
			if prev := byKey[k]; prev != nil {
				c.ID = prev.ID
				// A reviewed match stands: the person is the same contact.
				if prev.Status == StatusConfirmed || prev.Status == StatusRejected {
					c.Status, c.PoCID, c.Reason = prev.Status, prev.PoCID, prev.Reason
				}
				imp.Updated++
			} else {
				imp.Added++
			}
			if err := saveContact(ctx, tx, c); err != nil {
				return err
			}
		}
		for _, c := range old {
			if !kept[c.key] {
				if err := db.Exec(ctx, tx, "regional store: removing a contact", `DELETE FROM regional_contacts WHERE id = $1`, c.ID); err != nil {
					return err
				}
				imp.Removed++
			}
		}
		pending, err := countPending(ctx, tx, imp.Body)
		if err != nil {
			return err
		}
		imp.Done = imp.Total - pending
		if err := updateImport(ctx, tx, imp); err != nil {
			return err
		}
		err = auditlog.Append(ctx, tx, auditlog.Event{Type: "regional.imported", Object: "regional:" + imp.Body + "/" + strconv.FormatInt(imp.ID, 10), At: now}.By(a))
		return err
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}

// problemsError is the refusal of a file, with each row it could not read.
func problemsError(problems []Problem) error {
	var v app.Validation
	for _, p := range problems {
		if p.Line == 0 {
			v.Add("file", "error.regional_file", "{{.Message}}", map[string]any{"Message": p.Message})
			continue
		}
		v.Add("file", "error.regional_row", "line {{.Line}}: {{.Message}}", map[string]any{"Line": p.Line, "Message": p.Message})
	}
	return v.Err()
}

// Step matches the contacts that wait for it, a batch at a time: to the
// State's PoC with the same e-mail address, or that gives the contact's
// regional reference, else with the same agency. Safe on several
// instances: a contact is matched once.
func (s *Service) Step(ctx context.Context) (int, error) {
	pending, err := contactsWhere(ctx, s.DB, `c.status = $1 ORDER BY c.id LIMIT `+strconv.Itoa(s.batch), StatusPending)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	sys := app.WithActor(ctx, app.System)
	entries := map[string]*directory.Entry{}
	n := 0
	for _, c := range pending {
		e, ok := entries[c.State]
		if !ok {
			if e, err = s.directory.Get(sys, c.State); err != nil {
				return n, err
			}
			entries[c.State] = e
		}
		poc, reason := match(c, e.PoCs)
		status := StatusUnmatched
		if poc != nil {
			status = StatusSuggested
		}
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			var pocID any
			if poc != nil {
				pocID = poc.ID
			}
			ok, err := db.Exec1(ctx, tx, "regional store: matching a contact", `UPDATE regional_contacts SET status = $1, poc_id = $2, reason = $3 WHERE id = $4 AND status = $5`,
				status, pocID, reason, c.ID, StatusPending)
			if err != nil || !ok {
				return err
			}
			n++
			return db.Exec(ctx, tx, "regional store: counting the import's progress", `UPDATE regional_imports SET done = done + 1,
				finished_at = CASE WHEN done + 1 >= total THEN $1 ELSE finished_at END WHERE id = $2`, s.Now(), c.ImportID)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// match finds the PoC a contact is: by e-mail address, by the regional
// reference the PoC gives, else by agency.
func match(c *Contact, pocs []*directory.PoC) (*directory.PoC, string) {
	email := strings.ToLower(c.Email())
	for _, p := range pocs {
		for _, ch := range p.Channels {
			if email != "" && ch.Kind == directory.ChannelEmail && strings.ToLower(ch.Value) == email {
				return p, ByEmail
			}
		}
	}
	if c.Ref != "" {
		for _, p := range pocs {
			if slices.ContainsFunc(p.RegionalRefs, func(r directory.RegionalRef) bool { return strings.EqualFold(r.Body, c.Body) && r.Ref == c.Ref }) {
				return p, ByReference
			}
		}
	}
	for _, p := range pocs {
		if fold(p.Agency) == fold(c.Agency) && (p.Level == c.Level || len(pocs) == 1) {
			return p, ByAgency
		}
	}
	return nil, ""
}

// Contacts returns the contacts the actor may see of a body ("" for all)
// and a State ("" for all): the Secretariat's are every State's, a State's
// users' their State's.
func (s *Service) Contacts(ctx context.Context, body, state string) ([]*Contact, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	state = strings.ToUpper(state)
	if !a.IsSecretariat() {
		if state != "" && state != a.State {
			return nil, app.Errorf(app.Forbidden, "error.regional_forbidden", "a State sees its own regional contacts only")
		}
		state = a.State
		if state == "" {
			return nil, nil
		}
	}
	where, args := "1 = 1", []any{}
	if body != "" {
		args = append(args, body)
		where += " AND c.body = $" + strconv.Itoa(len(args))
	}
	if state != "" {
		args = append(args, state)
		where += " AND c.state_code = $" + strconv.Itoa(len(args))
	}
	return contactsWhere(ctx, s.DB, where+" ORDER BY c.body, c.state_code, c.agency, c.id", args...)
}

// Contact returns one contact the actor may see.
func (s *Service) Contact(ctx context.Context, id int64) (*Contact, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	list, err := contactsWhere(ctx, s.DB, `c.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || !canSee(a, list[0].State) {
		return nil, app.ErrNotFound("regional_contact")
	}
	return list[0], nil
}

// Review confirms or rejects a suggested match (a confirmed one may be
// rejected later, a rejected one confirmed).
func (s *Service) Review(ctx context.Context, id int64, confirm bool) (*Contact, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.Contact(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canReview(a, c.State) {
		return nil, app.Errorf(app.Forbidden, "error.regional_review", "the Secretariat or the State's focal point reviews a match")
	}
	if c.PoCID == nil {
		return nil, app.Errorf(app.Conflict, "error.regional_no_match", "this contact matches no PoC")
	}
	status, typ := StatusRejected, "regional.match_rejected"
	if confirm {
		status, typ = StatusConfirmed, "regional.match_confirmed"
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.Exec(ctx, tx, "regional store: reviewing a match", `UPDATE regional_contacts SET status = $1 WHERE id = $2`, status, c.ID); err != nil {
			return err
		}
		err := auditlog.Append(ctx, tx, auditlog.Event{Type: typ, Object: "poc:" + strconv.FormatInt(*c.PoCID, 10), States: []string{c.State}, At: s.Now()}.By(a))
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Status = status
	return c, nil
}

// Rematch puts a body's unmatched contacts back to be matched, after
// nominations from them were validated.
func (s *Service) Rematch(ctx context.Context, body string) (int, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return 0, err
	}
	if !a.IsSecretariat() {
		return 0, app.Errorf(app.Forbidden, "error.regional_secretariat", "only the Secretariat imports regional directories")
	}
	n := 0
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE regional_contacts SET status = $1 WHERE body = $2 AND status = $3`, StatusPending, body, StatusUnmatched)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		if n > 0 {
			return db.Exec(ctx, tx, "regional store: counting a new round", `UPDATE regional_imports SET done = done - $1, finished_at = NULL
				WHERE id = (SELECT MAX(id) FROM regional_imports WHERE body = $2)`, n, body)
		}
		return nil
	})
	return n, err
}

// ForPoCs returns, by PoC, the confirmed regional contacts of a State: the
// regional directories its PoCs also stand in.
func (s *Service) ForPoCs(ctx context.Context, state string) (map[int64][]*Contact, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]*Contact{}
	list, err := contactsWhere(ctx, s.DB, `c.state_code = $1 AND c.status = $2 ORDER BY c.body`, strings.ToUpper(state), StatusConfirmed)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if !canSee(a, c.State) {
			// Other States see where a PoC stands, not the contact.
			c = &Contact{Body: c.Body, Ref: c.Ref, PoCID: c.PoCID}
		}
		out[*c.PoCID] = append(out[*c.PoCID], c)
	}
	return out, nil
}

// Nomination returns the PoC form's input filled from a regional contact,
// for the State's focal point to complete (time zone, hours) and submit:
// it is still validated as every nomination.
func (s *Service) Nomination(ctx context.Context, id int64) (directory.PoCInput, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return directory.PoCInput{}, err
	}
	c, err := s.Contact(ctx, id)
	if err != nil {
		return directory.PoCInput{}, err
	}
	if !a.IsFocalPointOf(c.State) && !a.IsSecretariat() {
		return directory.PoCInput{}, app.Errorf(app.Forbidden, "error.regional_nominate", "the State's focal point nominates its PoCs")
	}
	in := directory.PoCInput{Level: c.Level, Agency: c.Agency, FunctionTitle: c.Function, Channels: c.Channels}
	if c.Ref != "" {
		in.RegionalRefs = []directory.RegionalRef{{Body: c.Body, Ref: c.Ref}}
	}
	return in, nil
}

// Bodies counts each body's contacts, of those the actor may see.
func (s *Service) Bodies(ctx context.Context) ([]*BodySummary, error) {
	list, err := s.Contacts(ctx, "", "")
	if err != nil {
		return nil, err
	}
	var out []*BodySummary
	idx := map[string]*BodySummary{}
	for _, c := range list {
		b := idx[c.Body]
		if b == nil {
			b = &BodySummary{Body: c.Body, ByStatus: map[string]int{}}
			idx[c.Body] = b
			out = append(out, b)
		}
		b.Contacts++
		b.ByStatus[c.Status]++
	}
	if a := app.ActorFrom(ctx); a.IsSecretariat() {
		for _, b := range out {
			if b.Last, err = lastImport(ctx, s.DB, b.Body); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// ImportProgress returns an import, for the Secretariat to follow.
func (s *Service) ImportProgress(ctx context.Context, id int64) (*Import, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.ErrNotFound("regional_import")
	}
	return getImport(ctx, s.DB, id)
}

// Export returns the rows of a body's PoCs as pocdir knows them, in the
// form of an import: the PoCs of the body's member States, each with the
// reference of its confirmed regional contact, for the Secretariat to
// send to the body.
func (s *Service) Export(ctx context.Context, body string) ([]Row, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsSecretariat() {
		return nil, app.Errorf(app.Forbidden, "error.regional_secretariat", "only the Secretariat exports regional directories")
	}
	states, err := s.directory.List(ctx, directory.Filter{Body: body})
	if err != nil {
		return nil, err
	}
	confirmed, err := contactsWhere(ctx, s.DB, `c.body = $1 AND c.status = $2`, body, StatusConfirmed)
	if err != nil {
		return nil, err
	}
	refOf := map[int64]string{}
	for _, c := range confirmed {
		refOf[*c.PoCID] = c.Ref
	}
	var rows []Row
	for _, st := range states {
		e, err := s.directory.Get(ctx, st.Code)
		if err != nil {
			return nil, err
		}
		for _, p := range e.PoCs {
			ref := refOf[p.ID]
			for _, r := range p.RegionalRefs {
				if ref == "" && strings.EqualFold(r.Body, body) {
					ref = r.Ref
				}
			}
			rows = append(rows, Row{Body: body, State: p.State, Ref: ref, Agency: p.Agency, Function: p.FunctionTitle, Level: p.Level, Channels: p.Channels})
		}
	}
	return rows, auditlog.Exported(ctx, s.DB, a, "regional.exported", "regional/"+body, s.Now())
}
