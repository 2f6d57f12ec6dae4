package checks

// Answering a check: in the portal, by the Secretariat on a PoC's behalf,
// by the one-time link of the check's e-mail, or by replying to it; and a
// bounce that comes back after the relay accepted the e-mail.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/notify"
)

// AnswerInPortal records a signed-in user's answer for a PoC of their State.
func (s *Service) AnswerInPortal(ctx context.Context, targetID int64) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	t, c, err := s.target(ctx, targetID)
	if err != nil {
		return err
	}
	if a.State != t.State {
		return app.ErrNotFound("target")
	}
	// Only what the portal offers: a check that was sent by email and can
	// still be answered.
	if t.QueuedAt == nil || t.Channel != ChannelEmail || t.BouncedAt != nil || t.NoAnswerAt != nil || c.Status == StatusCancelled {
		return app.Errorf(app.Conflict, "error.check_over", "this campaign is already over")
	}
	return s.answer(ctx, a, t, c, "portal", a.Email)
}

// RecordManual records, for the manual channel, the outcome of a call: the
// PoC answered, or did not.
func (s *Service) RecordManual(ctx context.Context, targetID int64, answered bool) error {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return err
	}
	t, c, err := s.target(ctx, targetID)
	if err != nil {
		return err
	}
	if !canSee(a, c) || !seesAllTargets(a, c) {
		return app.ErrNotFound("target")
	}
	if !CanManage(a, c) || t.Channel != ChannelManual {
		return app.ErrForbidden()
	}
	if answered {
		return s.answer(ctx, a, t, c, "manual", a.Email)
	}
	now := s.Now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := recordNoAnswer(ctx, tx, t.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.check_answered", "this check was already answered")
		}
		return logEvent(ctx, tx, a, "no_answer", "check_target:"+itoa(t.ID), []string{t.State}, now)
	})
}

func (s *Service) target(ctx context.Context, id int64) (*Target, *Campaign, error) {
	t, err := getTarget(ctx, s.DB, id)
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		return nil, nil, app.ErrNotFound("target")
	}
	c, err := getCampaign(ctx, s.DB, t.CampaignID)
	if err != nil {
		return nil, nil, err
	}
	return t, c, nil
}

// answer records an answer once, in the window's grace, and logs it.
func (s *Service) answer(ctx context.Context, a *app.Actor, t *Target, c *Campaign, via, by string) error {
	now := s.Now()
	if t.AnsweredAt != nil {
		return app.Errorf(app.Conflict, "error.check_answered", "this check was already answered")
	}
	if now.After(c.WindowEnd.Add(Grace)) {
		return app.Errorf(app.Conflict, "error.check_expired", "this check has expired")
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := recordAnswer(ctx, tx, t.ID, via, by, now, c.WindowEnd)
		if err != nil {
			return err
		}
		if !ok {
			return app.Errorf(app.Conflict, "error.check_answered", "this check was already answered")
		}
		return logEvent(ctx, tx, a, "answered", "check_target:"+itoa(t.ID), []string{t.State}, now)
	})
}

// LinkCheck is what an answer link shows: the campaign's title and message,
// never anything of the directory.
type LinkCheck struct {
	Title      string
	Message    string
	From       string // "the Secretariat" or the State that runs the check
	WindowEnd  time.Time
	AnsweredAt *time.Time
}

// LookupLink reads an answer link without using it. An unknown link counts
// toward the address's limit.
func (s *Service) LookupLink(ctx context.Context, token, ip string) (*LinkCheck, error) {
	t, c, err := s.byToken(ctx, token, ip)
	if err != nil {
		return nil, err
	}
	return &LinkCheck{Title: c.Title, Message: c.Message, From: c.OwnerState, WindowEnd: c.WindowEnd, AnsweredAt: t.AnsweredAt}, nil
}

// AnswerLink records the answer a link carries: once, before it expires;
// a spent or expired link says so and records nothing.
func (s *Service) AnswerLink(ctx context.Context, token, ip string) (*LinkCheck, error) {
	t, c, err := s.byToken(ctx, token, ip)
	if err != nil {
		return nil, err
	}
	if t.AnsweredAt != nil {
		s.countFailure(ctx, ip)
		return nil, app.Errorf(app.Conflict, "error.check_answered", "this check was already answered")
	}
	if err := s.answer(ctx, nil, t, c, "link", ""); err != nil {
		return nil, err
	}
	now := s.Now()
	return &LinkCheck{Title: c.Title, Message: c.Message, From: c.OwnerState, WindowEnd: c.WindowEnd, AnsweredAt: &now}, nil
}

// MailTarget is what the mail gateway needs of the target a reply address
// is bound to: the language an explanation is written in.
type MailTarget struct {
	ID       int64
	Address  string
	Language string
}

// ReplyTarget returns the check target a reply token is bound to. An
// unknown token (or one of another kind) is NotFound, an expired one
// Conflict.
func (s *Service) ReplyTarget(ctx context.Context, token string) (*MailTarget, error) {
	rt, err := notify.LookupReplyToken(ctx, s.DB, token)
	if errors.Is(err, notify.ErrUnknownReply) || err == nil && rt.Kind != notify.ReplyCheck {
		return nil, app.Errorf(app.NotFound, "error.reply_unknown", "this reply address is not valid")
	}
	if err != nil {
		return nil, err
	}
	if s.Now().After(rt.ExpiresAt) {
		return nil, app.Errorf(app.Conflict, "error.check_expired", "this check has expired")
	}
	t, _, err := s.target(ctx, rt.ObjectID)
	if err != nil {
		return nil, err
	}
	return &MailTarget{ID: t.ID, Address: t.Address, Language: t.language}, nil
}

// AnswerByMail records the answer a reply to a check's email carries: the
// reply address is bound to one target, as the answer link is, and an
// answer by email counts as one by link.
func (s *Service) AnswerByMail(ctx context.Context, token, from string) error {
	mt, err := s.ReplyTarget(ctx, token)
	if err != nil {
		return err
	}
	t, c, err := s.target(ctx, mt.ID)
	if err != nil {
		return err
	}
	if c.Status == StatusCancelled {
		return app.Errorf(app.Conflict, "error.check_over", "this campaign is already over")
	}
	return s.answer(ctx, nil, t, c, "email", strings.ToLower(strings.TrimSpace(from)))
}

// LateBounce records, on the target whose check it was, a bounce that came
// back after the relay accepted the message (RFC 3464), in the caller's
// transaction. It reports whether a target had that message.
func (s *Service) LateBounce(ctx context.Context, tx *sql.Tx, outboxID int64, at time.Time, why string) (bool, error) {
	id, err := targetByOutbox(ctx, tx, outboxID)
	if err != nil || id == 0 {
		return false, err
	}
	return true, recordBounce(ctx, tx, id, at, why)
}

func (s *Service) byToken(ctx context.Context, token, ip string) (*Target, *Campaign, error) {
	if err := s.checkLimit(ctx, ip); err != nil {
		return nil, nil, err
	}
	id, expires, err := tokenTarget(ctx, s.DB, hashToken(token))
	if err != nil {
		return nil, nil, err
	}
	if id == 0 {
		s.countFailure(ctx, ip)
		return nil, nil, app.Errorf(app.NotFound, "error.check_link", "this answer link is not valid")
	}
	if s.Now().After(expires) {
		s.countFailure(ctx, ip)
		return nil, nil, app.Errorf(app.Conflict, "error.check_expired", "this check has expired")
	}
	return s.target(ctx, id)
}

// The answer page needs no login, so unknown and spent links are counted
// per address, as failed logins are.
const limitWindow = 15 * time.Minute

func (s *Service) limit() int {
	if s.answerLimit > 0 {
		return s.answerLimit
	}
	return 30
}

func (s *Service) checkLimit(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	n, err := db.Attempts(ctx, s.DB, "check:"+ip, s.Now().Add(-limitWindow))
	if err != nil {
		return err
	}
	if n >= s.limit() {
		return app.Errorf(app.TooMany, "error.throttled", "too many failed attempts from your address: wait a few minutes")
	}
	return nil
}

func (s *Service) countFailure(ctx context.Context, ip string) {
	if ip == "" {
		return
	}
	now := s.Now()
	db.CountAttempt(ctx, s.DB, "check:"+ip, now, now.Add(-limitWindow))
}

// newToken returns a fresh answer link token (256 bits) and its hash.
func newToken() (string, string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}
