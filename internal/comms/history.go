package comms

import (
	"context"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
)

// HistoryInput describes a generated history of communications: the data
// set of the scale demonstration (pocdir demo --scale) and of the
// benchmarks at full size.
type HistoryInput struct {
	// Count communications are written, sent at even intervals from From
	// to To.
	Count    int
	From, To time.Time
	// Seed makes the same history each time.
	Seed uint64
}

// historyChunk is how many communications one transaction writes.
const historyChunk = 500

// History writes a history of sent notifications between the Member States
// that have technical PoCs, as the real path leaves them once their steps
// are done: each communication sealed, committed to in the log and routed
// to its recipients' technical PoCs; each recipient delivered to, and most
// opened, acknowledged and answered, each step in the log with its event,
// so that pages, reports and `pocdir audit check` meet what years of use
// leave. No e-mail is queued: these notifications were sent long ago.
// Only pocdir itself runs it. progress is called after each transaction
// with the number written so far.
func (s *Service) History(ctx context.Context, in HistoryInput, progress func(done int)) error {
	if app.ActorFrom(ctx) != app.System {
		return app.ErrForbidden()
	}
	if in.Count <= 0 || !in.To.After(in.From) {
		return app.Errorf(app.Invalid, "error.history", "a history needs a number of items, a period and two States with technical PoCs")
	}
	tmpl, version, _, err := templateBySlug(ctx, s.DB, "notification")
	if err != nil {
		return err
	}
	states, err := s.dir.List(app.WithActor(ctx, app.System), directory.Filter{})
	if err != nil {
		return err
	}
	routes := map[string][]target{}
	var codes []string
	for _, st := range states {
		ts, err := s.route(ctx, nil, "", st.Code, LevelTechnical)
		if err != nil {
			return err
		}
		if len(ts) > 0 {
			routes[st.Code] = ts
			codes = append(codes, st.Code)
		}
	}
	if len(codes) < 2 {
		return app.Errorf(app.Invalid, "error.history", "a history needs a number of items, a period and two States with technical PoCs")
	}
	rng := rand.New(rand.NewPCG(in.Seed, 0x706f6364))
	step := in.To.Sub(in.From) / time.Duration(in.Count)
	for done := 0; done < in.Count; {
		n := min(historyChunk, in.Count-done)
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			h := &historyTx{s: s, tx: tx, rng: rng, template: tmpl, version: version, routes: routes, codes: codes}
			for i := range n {
				if err := h.comm(ctx, done+i, in.From.Add(time.Duration(done+i)*step)); err != nil {
					return err
				}
			}
			return h.log(ctx)
		})
		if err != nil {
			return fmt.Errorf("comms: writing the history at %d: %w", done, err)
		}
		done += n
		if progress != nil {
			progress(done)
		}
	}
	return nil
}

// historyTx writes one transaction's communications, keeping their log
// events to append in one batch at the end, with what takes each index.
type historyTx struct {
	s        *Service
	tx       *sql.Tx
	rng      *rand.Rand
	template int64
	version  int
	routes   map[string][]target
	codes    []string

	events []auditlog.Event
	owners []historyOwner
}

// historyOwner is what a log entry's index goes to: the communication's
// commitment (event 0), or else an event row.
type historyOwner struct {
	comm  *Communication
	event *Event
}

var historySubjects = []string{"Scanning of government networks", "Phishing campaign against ministries", "Ransomware in a hospital",
	"DDoS against the national bank", "Wiper activity in the energy sector", "Defacement of public websites", "Credential leak of officials"}

// comm writes the i-th communication, sent at.
func (h *historyTx) comm(ctx context.Context, i int, at time.Time) error {
	from := h.codes[h.rng.IntN(len(h.codes))]
	var to []string
	for want := min(1+h.rng.IntN(5), len(h.codes)-1); len(to) < want; {
		st := h.codes[h.rng.IntN(len(h.codes))]
		if st != from && !inList(to, st) {
			to = append(to, st)
		}
	}
	tlp := []string{TLPGreen, TLPAmber, TLPAmber, TLPClear}[h.rng.IntN(4)]
	c := &Communication{Ref: historyRef(at, i), TemplateID: h.template, TemplateVersion: h.version, SenderState: from,
		SenderEmail: "officer@" + strings.ToLower(from) + ".history.pocdir.example", ToStates: to, Level: LevelTechnical,
		Urgency: []string{"medium", "high", "critical"}[h.rng.IntN(3)], TLP: tlp, Status: StatusSent, CreatedAt: at,
		Content: &Content{Subject: historySubjects[i%len(historySubjects)] + " (" + strconv.Itoa(i) + ")",
			Fields: map[string]string{"description": "Observed from addresses announced in your space; details in the indicators.",
				"indicators": "198.51.100." + strconv.Itoa(i%250+1)}}}
	sealed, err := h.s.sealContent(c)
	if err != nil {
		return err
	}
	if err := insertComm(ctx, h.tx, c, sealed); err != nil {
		return err
	}
	c.ThreadID, c.CommitSalt, c.SentAt = c.ID, auditlog.NewSalt(), &at
	if _, err := h.tx.ExecContext(ctx, `UPDATE comms SET thread_id = id, sent_at = $1, updated_at = $1, sender_tz = 'UTC' WHERE id = $2`, at, c.ID); err != nil {
		return fmt.Errorf("comms store: sending a communication of the history: %w", err)
	}
	if err := addVolume(ctx, h.tx, volumeKey{month: volumeMonth(at), state: from, template: h.template}, 1); err != nil {
		return err
	}
	sys := &app.Actor{Role: app.RoleOfficer, State: from}
	h.add(auditlog.Event{Type: "comms.sent", Object: "comm:" + c.Ref, States: append([]string{from}, to...), At: at, Commitment: c.Commitment()}.ByState(sys),
		historyOwner{comm: c})
	h.addEvent(c, EvSent, from, at)
	lines := newRecipientLines(h.tx)
	for _, st := range to {
		for _, t := range h.routes[st] {
			if err := lines.add(ctx, c, t, t.poc.Email(), false, at, 0); err != nil {
				return err
			}
		}
	}
	// The steps of each recipient State, minutes to days after sending.
	later := func(max time.Duration) time.Time {
		return at.Add(time.Minute + time.Duration(h.rng.Int64N(int64(max))))
	}
	ls, err := db.IDCodes(ctx, h.tx, "the recipients of the history", `SELECT id, state_code FROM comm_recipients WHERE comm_id = $1 ORDER BY id`, c.ID)
	if err != nil {
		return fmt.Errorf("comms store: %w", err)
	}
	for _, l := range ls {
		delivered := at.Add(time.Duration(1+h.rng.IntN(60)) * time.Second)
		if _, err := h.tx.ExecContext(ctx, `UPDATE comm_recipients SET outbox_id = NULL, delivered_at = $1 WHERE id = $2`, delivered, l.ID); err != nil {
			return fmt.Errorf("comms store: delivering the history: %w", err)
		}
		h.add(auditlog.Event{Type: "comms.delivered", Object: "comm:" + c.Ref + "/recipient:" + strconv.FormatInt(l.ID, 10),
			States: []string{from, l.Code}, At: delivered}.By(app.System), historyOwner{})
	}
	for _, st := range to {
		if h.rng.IntN(10) == 0 {
			continue // never opened
		}
		opened, acked := later(4*time.Hour), later(24*time.Hour)
		if acked.Before(opened) {
			opened, acked = acked, opened
		}
		by := "officer@" + strings.ToLower(st) + ".history.pocdir.example"
		if _, err := h.tx.ExecContext(ctx, `UPDATE comm_recipients SET opened_at = $1, opened_by = $2 WHERE comm_id = $3 AND state_code = $4`, opened, by, c.ID, st); err != nil {
			return fmt.Errorf("comms store: opening the history: %w", err)
		}
		actor := &app.Actor{Role: app.RoleOfficer, State: st}
		h.add(auditlog.Event{Type: "comms.opened", Object: "comm:" + c.Ref, States: []string{from, st}, At: opened}.ByState(actor), historyOwner{})
		h.addEvent(c, EvOpened, st, opened)
		if h.rng.IntN(5) == 0 {
			continue // opened, not acknowledged
		}
		if _, err := h.tx.ExecContext(ctx, `UPDATE comm_recipients SET acked_at = $1, acked_by = $2 WHERE comm_id = $3 AND state_code = $4`, acked, by, c.ID, st); err != nil {
			return fmt.Errorf("comms store: acknowledging the history: %w", err)
		}
		h.add(auditlog.Event{Type: "comms.acknowledged", Object: "comm:" + c.Ref, States: []string{from, st}, At: acked}.ByState(actor), historyOwner{})
		h.addEvent(c, EvAcknowledged, st, acked)
	}
	// The lines' count by stage, once for all their steps.
	return syncStages(ctx, h.tx, "comm_id = $1", c.ID)
}

// add keeps a log event and what its index goes to.
func (h *historyTx) add(ev auditlog.Event, o historyOwner) {
	h.events = append(h.events, ev)
	h.owners = append(h.owners, o)
}

// addEvent notes a step's event row, to be written with the index of the
// log entry added just before it.
func (h *historyTx) addEvent(c *Communication, kind, state string, at time.Time) {
	h.owners[len(h.owners)-1].event = &Event{threadID: c.ThreadID, CommID: c.ID, Kind: kind, State: state,
		Actor: "officer@" + strings.ToLower(state) + ".history.pocdir.example", At: at}
}

// log appends the transaction's events in one batch, then writes each
// index where it belongs.
func (h *historyTx) log(ctx context.Context) error {
	if len(h.events) == 0 {
		return nil
	}
	first, err := auditlog.AppendBatch(ctx, h.tx, h.events)
	if err != nil {
		return err
	}
	for i, o := range h.owners {
		idx := first + int64(i)
		if o.comm != nil {
			if err := exec(ctx, h.tx, "recording a commitment", `UPDATE comms SET commit_salt = $1, log_index = $2 WHERE id = $3`, o.comm.CommitSalt, idx, o.comm.ID); err != nil {
				return err
			}
		}
		if o.event != nil {
			if err := insertEvent(ctx, h.tx, o.event, nil, nil, idx); err != nil {
				return err
			}
		}
	}
	return nil
}

// historyRef is the reference of the i-th communication of a history: in
// the form of newRef, with the high bit of its five bytes set and the
// number below, so that no two are the same.
func historyRef(at time.Time, i int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i)|1<<39)
	return RefPrefix + strconv.Itoa(at.Year()) + "-" + base32.StdEncoding.EncodeToString(b[3:])
}
