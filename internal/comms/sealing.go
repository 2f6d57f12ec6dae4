package comms

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/seal"
)

// logComm is the log entry of the sending, with a commitment to the
// content, so that sender and recipients can later prove what was sent
// without the log holding it. The communication keeps its salt with its
// sending (markSent) and the entry's index once integrated, as does the
// thread's "sent" event (see event).
func (s *Service) logComm(a *app.Actor, c *Communication, now time.Time) *entry {
	// Like every step of a communication, the entry names the State, not
	// the person (see logStep).
	typ := "comms.sent"
	if c.ExerciseID != 0 {
		typ = "comms.exercise_sent" // the log says it was an exercise
	}
	lg := actEntry(a, typ, c, now, append([]string{c.SenderState}, c.ToStates...)...)
	lg.Commitment = c.Commitment()
	lg.owners = []auditlog.Owner{{Table: "comms", ID: c.ID}}
	lg.set = func(idx int64) { c.LogIndex = &idx }
	return lg
}

// CheckCommitments returns the check, for auditlog.Check, of every sent
// communication's commitment: recomputed from its stored fields, its
// content (unsealed with the data keys) and its salt. An edited
// communication, content, salt or log index shows as a mismatch, and
// content that does not open (altered, or moved from another
// communication) as a problem of its own. It needs only the keys: an
// operator runs it from the command line, without a running pocdir.
func CheckCommitments(keys *seal.Keyring) auditlog.ContentChecker {
	return func(ctx context.Context, q db.Queryer, commitments *auditlog.Commitments, problem func(string, ...any)) (int, error) {
		// One goroutine reads the rows; the others open the contents and
		// recompute the commitments, which at full size (a million
		// communications) cost as much as the reading.
		var mu sync.Mutex
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			problem(format, args...)
		}
		work := make(chan *Communication, 256)
		var wg sync.WaitGroup
		for range max(1, runtime.GOMAXPROCS(0)) {
			wg.Go(func() {
				for c := range work {
					checkCommitment(keys, c, commitments, report)
				}
			})
		}
		n := 0
		err := eachLoggedComm(ctx, q, func(c *Communication) {
			n++
			work <- c
		})
		close(work)
		wg.Wait()
		return n, err
	}
}

// checkCommitment compares one sent communication with the commitment of
// its log entry.
func checkCommitment(keys *seal.Keyring, c *Communication, commitments *auditlog.Commitments, problem func(string, ...any)) {
	want, ok := commitments.Get(*c.LogIndex)
	switch {
	case !ok:
		problem("communication %s: its log entry %d holds no commitment", c.Ref, *c.LogIndex)
	case openContent(keys, c) != nil:
		problem("communication %s: its content does not open with the data keys (altered, or not its own)", c.Ref)
	case c.EscalatedAt != nil && c.Level != LevelDiplomatic:
		// The commitment holds the level it was sent at; an escalation
		// moves it to the diplomatic level.
		problem("communication %s: escalated, yet not at the diplomatic level", c.Ref)
	case c.Commitment() != want:
		problem("communication %s: it does not match the commitment in log entry %d", c.Ref, *c.LogIndex)
	}
}

// Commitment recomputes the log's commitment to the communication, from its
// content, its fields and CommitSalt: whoever reads them through the API
// can compare it with the log entry (pocdir audit verify does).
func (c *Communication) Commitment() string {
	return auditlog.Commit(c.CommitSalt, c.commitment())
}

// commitment is what the log's commitment to a communication covers: the
// communication as it was sent. (An escalation, logged on its own, moves a
// technical communication to the diplomatic level.)
func (c *Communication) commitment() any {
	level := c.Level
	if c.EscalatedAt != nil {
		level = LevelTechnical
	}
	return struct {
		Ref       string   `json:"ref"`
		Sender    string   `json:"sender_state"`
		To        []string `json:"to_states"`
		Level     string   `json:"level"`
		Template  int64    `json:"template"`
		Version   int      `json:"template_version"`
		TLP       string   `json:"tlp"`
		Urgency   string   `json:"urgency"`
		RespondBy string   `json:"respond_by,omitempty"`
		Content   *Content `json:"content"`
	}{c.Ref, c.SenderState, c.ToStates, level, c.TemplateID, c.TemplateVersion, c.TLP, c.Urgency, fmtTime(c.RespondBy), c.Content}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Service) openContent(c *Communication) error { return openContent(s.seal, c) }

// openContent unseals a communication's content, bound to its reference.
func openContent(keys *seal.Keyring, c *Communication) error {
	b, err := keys.Open(contentAAD(c.Ref), c.sealed)
	if err != nil {
		return err
	}
	var ct Content
	if err := json.Unmarshal(b, &ct); err != nil {
		return err
	}
	c.Content = &ct
	return nil
}

func (s *Service) sealContent(c *Communication) (string, error) {
	b, err := json.Marshal(c.Content)
	if err != nil {
		return "", err
	}
	return s.seal.Seal(contentAAD(c.Ref), b)
}

// Reseal seals again, under the current data key, every communication's
// content, note and attachment sealed under an older key (data-key
// rotation). It returns how many values it sealed again.
func (s *Service) Reseal(ctx context.Context, log *slog.Logger) (int, error) {
	n := 0
	for _, t := range []struct {
		sealedColumn
		aad func(id int64, ref string) string
	}{
		{sealedColumn{"comms", "content", "ref"}, func(_ int64, ref string) string { return contentAAD(ref) }},
		{sealedColumn{"comm_events", "note", "''"}, func(id int64, _ string) string { return noteAAD(id) }},
		{sealedColumn{"comm_attachments", "data", "''"}, func(id int64, _ string) string { return attachmentAAD(id) }},
		{sealedColumn{"comm_attachments", "meta", "''"}, func(id int64, _ string) string { return attachmentMetaAAD(id) }},
	} {
		// In batches by id, so that attachments are never all in memory.
		after := int64(0)
		for {
			batch, err := sealedBatch(ctx, s.DB, t.sealedColumn, after)
			if err != nil {
				return n, err
			}
			if len(batch) == 0 {
				break
			}
			after = batch[len(batch)-1].id
			for _, r := range batch {
				if seal.SealedWith(r.val) == s.seal.Current() {
					continue
				}
				b, err := s.seal.Open(t.aad(r.id, r.ref), r.val)
				if err != nil {
					return n, fmt.Errorf("comms: opening %s.%s of %d: %w", t.table, t.col, r.id, err)
				}
				v, err := s.seal.Seal(t.aad(r.id, r.ref), b)
				if err != nil {
					return n, err
				}
				if err := replaceSealed(ctx, s.DB, t.sealedColumn, r.id, r.val, v); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	if log != nil && n > 0 {
		log.Info("communications sealed again under the current data key", "values", n)
	}
	return n, nil
}

type sealedAttachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data,omitempty"`
}

// attachmentMetaAAD binds an attachment's name and type, sealed apart from
// its bytes so that listing files never opens them.
func attachmentMetaAAD(id int64) string { return "comms/attachment-meta/" + strconv.FormatInt(id, 10) }

func (s *Service) addAttachments(ctx context.Context, tx *sql.Tx, comm int64, atts []*Attachment) error {
	for _, a := range atts {
		id, err := insertAttachment(ctx, tx, comm, len(a.Data))
		if err != nil {
			return err
		}
		b, _ := json.Marshal(sealedAttachment{a.Name, a.Type, a.Data})
		v, err := s.seal.Seal(attachmentAAD(id), b)
		if err != nil {
			return err
		}
		m, _ := json.Marshal(sealedAttachment{Name: a.Name, Type: a.Type})
		meta, err := s.seal.Seal(attachmentMetaAAD(id), m)
		if err != nil {
			return err
		}
		if err := setAttachmentSealed(ctx, tx, id, v, meta); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) copyAttachments(ctx context.Context, tx *sql.Tx, from, to int64) error {
	stored, err := attachmentsData(ctx, tx, from)
	if err != nil {
		return err
	}
	var atts []*Attachment
	for _, v := range stored {
		a, err := s.openAttachment(v.id, v.val)
		if err != nil {
			return err
		}
		atts = append(atts, a)
	}
	return s.addAttachments(ctx, tx, to, atts)
}

func (s *Service) openAttachment(id int64, v string) (*Attachment, error) {
	b, err := s.seal.Open(attachmentAAD(id), v)
	if err != nil {
		return nil, fmt.Errorf("comms: opening attachment %d: %w", id, err)
	}
	var sa sealedAttachment
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, fmt.Errorf("comms: reading attachment %d: %w", id, err)
	}
	return &Attachment{ID: id, Name: sa.Name, Type: sa.Type, Size: int64(len(sa.Data)), Data: sa.Data}, nil
}

// attachments lists a communication's files, without their bytes; with
// names only when open is set.
func (s *Service) attachments(ctx context.Context, comm int64, open bool) ([]*Attachment, error) {
	out, metas, err := attachmentsMeta(ctx, s.DB, comm)
	if err != nil || !open {
		return out, err
	}
	for i, a := range out {
		b, err := s.seal.Open(attachmentMetaAAD(a.ID), metas[i])
		if err != nil {
			return nil, fmt.Errorf("comms: opening the name of attachment %d: %w", a.ID, err)
		}
		var m sealedAttachment
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("comms: reading the name of attachment %d: %w", a.ID, err)
		}
		a.Name, a.Type = m.Name, m.Type
	}
	return out, nil
}
