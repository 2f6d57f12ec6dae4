package offline

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/notify"
)

// The offline copies sent by e-mail: a focal point turns them on for their
// State (offline_mailings), and each of the State's PoCs then receives a
// fresh copy, encrypted to the key on its entry, when the directory changed
// since its last one (at most once a day) and at least monthly
// (offline_mailed keeps each PoC's last). The package owns both tables.

// The log's events of the offline copies by e-mail.
var _ = auditlog.Register("offline.mailing.on", "offline.mailing.off", "offline.copy.mailed")

// Why a PoC receives no copy by e-mail.
const (
	NoEmail     = "no_email"     // no e-mail address on the entry
	NoKey       = "no_key"       // no OpenPGP key on the entry
	KeyUnusable = "key_unusable" // a key that cannot encrypt now (expired, revoked)
)

// How often a PoC receives a copy: at most once a day when the directory
// changes, and a month after the last one when it does not.
const (
	mailAtMost = 24 * time.Hour
)

// Mailing is whether a State's PoCs receive the offline copy by e-mail,
// and each PoC's standing.
type Mailing struct {
	State string
	On    bool
	Since *time.Time
	PoCs  []MailedPoC
}

// MailedPoC is a PoC of the State, why it receives no copy (Missing, empty
// when it receives one), and its last copy.
type MailedPoC struct {
	PoC     *directory.PoC
	Missing string
	// LastSent is when its last copy was written to the outbox; Delivered
	// when the mail server took it, Failed when it refused it for good.
	LastSent  *time.Time
	Delivered *time.Time
	Failed    bool
}

// mailed is a PoC's last copy by e-mail.
type mailed struct {
	at        time.Time
	directory string
	outbox    sql.NullInt64
}

// canMail checks that the actor may see (write, when write) a State's
// mailing: its focal points; the Secretariat may see it.
func canMail(ctx context.Context, state string, write bool) (*app.Actor, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if write {
		if a, err = app.RequireWrite(ctx); err != nil {
			return nil, err
		}
	}
	if a.IsFocalPointOf(state) || !write && a.IsSecretariat() {
		return a, nil
	}
	return nil, app.ErrForbidden()
}

// Mailing returns whether the State's PoCs receive the copy by e-mail, and
// which of them will not and why.
func (s *Service) Mailing(ctx context.Context, state string) (*Mailing, error) {
	if _, err := canMail(ctx, state, false); err != nil {
		return nil, err
	}
	e, err := s.Export.Dir.Get(ctx, state)
	if err != nil {
		return nil, err
	}
	m := &Mailing{State: state}
	var at sql.NullTime
	err = s.DB.QueryRowContext(ctx, `SELECT enabled_at FROM offline_mailings WHERE state_code = $1`, state).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("offline store: reading the mailing: %w", err)
	default:
		m.On, m.Since = true, db.TimeOf(at)
	}
	last, err := lastMailed(ctx, s.DB, state)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, l := range last {
		if l.outbox.Valid {
			ids = append(ids, l.outbox.Int64)
		}
	}
	outcomes, err := notify.Outcomes(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	for _, p := range e.PoCs {
		mp := MailedPoC{PoC: p, Missing: missing(p, now)}
		if l, ok := last[p.ID]; ok {
			mp.LastSent = &l.at
			o := outcomes[l.outbox.Int64]
			mp.Delivered, mp.Failed = o.SentAt, o.FailedAt != nil
		}
		m.PoCs = append(m.PoCs, mp)
	}
	return m, nil
}

// SetMailing turns the copies by e-mail on or off for the State: its focal
// points only. Each change is recorded in the log.
func (s *Service) SetMailing(ctx context.Context, state string, on bool) error {
	a, err := canMail(ctx, state, true)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		typ := "offline.mailing.off"
		if on {
			typ = "offline.mailing.on"
			res, err = tx.ExecContext(ctx, `INSERT INTO offline_mailings (state_code, enabled_by, enabled_at) VALUES ($1, $2, $3)
				ON CONFLICT (state_code) DO NOTHING`, state, nullID(a.UserID), now)
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM offline_mailings WHERE state_code = $1`, state)
		}
		if err != nil {
			return fmt.Errorf("offline store: saving the mailing: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already so: nothing to record
		}
		err = auditlog.Append(ctx, tx, auditlog.Event{Type: typ, Object: "state:" + state, States: []string{state}, At: now}.By(a))
		return err
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// missing says why a PoC receives no copy by e-mail at now, or "".
func missing(p *directory.PoC, now time.Time) string {
	switch {
	case p.Email() == "":
		return NoEmail
	case p.PGPKey == "":
		return NoKey
	}
	k, err := crypto.NewKeyFromArmored(p.PGPKey)
	if err != nil || !k.CanEncrypt(now.Unix()) {
		return KeyUnusable
	}
	return ""
}

// lastMailed returns the State's PoCs' last copies by e-mail, by PoC.
func lastMailed(ctx context.Context, q db.Queryer, state string) (map[int64]mailed, error) {
	rows, err := q.QueryContext(ctx, `SELECT poc_id, sent_at, directory, outbox_id FROM offline_mailed WHERE state_code = $1`, state)
	if err != nil {
		return nil, fmt.Errorf("offline store: reading the copies sent: %w", err)
	}
	defer rows.Close()
	out := map[int64]mailed{}
	for rows.Next() {
		var id int64
		var m mailed
		if err := rows.Scan(&id, &m.at, &m.directory, &m.outbox); err != nil {
			return nil, fmt.Errorf("offline store: reading the copies sent: %w", err)
		}
		m.at = m.at.UTC()
		out[id] = m
	}
	return out, rows.Err()
}

// stateActor is whom the job reads a State's entry as, and records the
// sending by: pocdir itself, for the State.
func stateActor(state string) *app.Actor {
	a := *app.System
	a.Role, a.State = app.RoleOfficer, state
	return &a
}

// MailCopies is the background job: it sends each PoC of the States that
// turned it on whose copy is due a fresh one, encrypted to the key on its
// entry, and returns how many it sent. Each copy is claimed in the
// transaction that writes it to the outbox and records it in the log, so
// that several instances send it once.
func (s *Service) MailCopies(ctx context.Context) (int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT state_code FROM offline_mailings ORDER BY state_code`)
	if err != nil {
		return 0, fmt.Errorf("offline store: listing the mailings: %w", err)
	}
	var states []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			rows.Close()
			return 0, fmt.Errorf("offline store: listing the mailings: %w", err)
		}
		states = append(states, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("offline store: listing the mailings: %w", err)
	}
	// A State (or a PoC) whose copy fails does not hold back the others:
	// each error is kept and returned with the rest once all are tried.
	sent := 0
	var errs []error
	for _, st := range states {
		n, err := s.mailState(ctx, st)
		sent += n
		if err != nil {
			errs = append(errs, fmt.Errorf("offline copies of %s: %w", st, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return sent, errors.Join(errs...)
}

// mailState sends the copies due to one State's PoCs.
func (s *Service) mailState(ctx context.Context, state string) (int, error) {
	actx := app.WithActor(ctx, stateActor(state))
	e, err := s.Export.Dir.Get(actx, state)
	if err != nil {
		return 0, err
	}
	last, err := lastMailed(ctx, s.DB, state)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	sum := "" // the directory's SHA-256, read once when needed
	sent := 0
	var errs []error
	for _, p := range e.PoCs {
		if missing(p, now) != "" {
			continue
		}
		prev, had := last[p.ID]
		if had && now.Sub(prev.at) < mailAtMost {
			continue
		}
		if sum == "" {
			if sum, err = s.directorySum(actx); err != nil {
				return sent, err
			}
		}
		if had && prev.directory == sum && now.Before(prev.at.AddDate(0, 1, 0)) {
			continue // unchanged, and not a month old
		}
		var prevAt *time.Time
		if had {
			prevAt = &prev.at
		}
		ok, err := s.mailPoC(ctx, p, prevAt, sum, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("PoC %d: %w", p.ID, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

// directorySum is the SHA-256 of the directory as its JSON export writes
// it: it changes when the directory does.
func (s *Service) directorySum(ctx context.Context) (string, error) {
	entries, err := s.Export.Entries(ctx, directory.Filter{})
	if err != nil {
		return "", err
	}
	body, err := s.Export.Encode(ctx, "directory", entries, export.JSONFormat)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:]), nil
}

// mailPoC makes the PoC's copy and, if no other instance sent it since
// prev, writes it to the outbox and records it in the log; false when
// another did.
func (s *Service) mailPoC(ctx context.Context, p *directory.PoC, prev *time.Time, sum string, now time.Time) (bool, error) {
	to := s.Mail.ReaderOf(p.Email(), p.Languages...)
	holder := stateActor(p.State)
	holder.Email, holder.Language = to.Email, to.Lang
	a, err := s.archive(app.WithActor(ctx, holder), nil)
	if err != nil {
		return false, err
	}
	body, err := Encrypt(a.Tar, Recipient{PublicKey: p.PGPKey}, now.Unix())
	if err != nil {
		return false, err
	}
	date := a.Manifest.Created.Format("2006-01-02")
	name := "pocdir-offline-copy-" + date + ".tar.gpg"
	letter := notify.Letter{Kind: "offline-copy", To: to,
		Subject: notify.T("mail.offline.subject", "Date", date),
		Body: []notify.Text{
			notify.T("mail.offline.body", "Date", date, "Fingerprint", directory.FormatFingerprint(p.PGPFingerprint), "File", name),
			notify.T("mail.offline.why", "Link", s.Mail.Link("/offline-copy#by-mail")),
		},
		Attachment: &notify.Attachment{Name: name, Data: body}}
	done := false
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if prev == nil {
			res, err = tx.ExecContext(ctx, `INSERT INTO offline_mailed (poc_id, state_code, sent_at, directory) VALUES ($1, $2, $3, $4)
				ON CONFLICT (poc_id) DO NOTHING`, p.ID, p.State, now, sum)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE offline_mailed SET sent_at = $1, directory = $2 WHERE poc_id = $3 AND sent_at = $4`,
				now, sum, p.ID, *prev)
		}
		if err != nil {
			return fmt.Errorf("offline store: claiming a PoC's copy: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // another instance sent it
		}
		id, err := notify.EnqueueID(ctx, tx, now, s.Mail.Write(letter))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE offline_mailed SET outbox_id = $1 WHERE poc_id = $2`, id, p.ID); err != nil {
			return fmt.Errorf("offline store: recording a PoC's copy: %w", err)
		}
		ev := auditlog.Event{Type: "offline.copy.mailed", Object: "poc:" + strconv.FormatInt(p.ID, 10), States: []string{p.State}, At: now}
		if err := auditlog.Append(ctx, tx, ev.By(app.System)); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}
