package comms

import (
	"context"
	"database/sql"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
)

// Communication returns a communication as the actor may see it: whole for
// the sender's and the recipients' States (a first view by a recipient
// State records the opening), metadata only for the Secretariat, and not
// found for anyone else.
func (s *Service) Communication(ctx context.Context, id int64) (*Communication, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if c.Viewer.Recipient && !a.ReadOnly {
		if err := s.markOpened(ctx, a, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// visible loads a communication as the actor may see it (not found for
// those who may not).
func (s *Service) visible(ctx context.Context, a *app.Actor, id int64) (*Communication, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, s.fill(ctx, a, c)
}

// readable is visible, refusing the Secretariat, which reads no content.
func (s *Service) readable(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if c.Viewer.Metadata {
		return nil, nil, app.Errorf(app.Forbidden, "error.comms_content", "the Secretariat does not read the content of communications")
	}
	return a, c, nil
}

// fill sets the viewer, opens the content for those who may read it, and
// loads the recipients and attachments.
func (s *Service) fill(ctx context.Context, a *app.Actor, c *Communication) error {
	var err error
	if c.Viewer, err = viewerOf(ctx, s.DB, a, c); err != nil {
		return err
	}
	rs, err := recipientsOf(ctx, s.DB, c.ID)
	if err != nil {
		return err
	}
	if c.Viewer.Recipient {
		// A recipient State sees its own PoCs' lines, not the others'.
		var own []*Recipient
		for _, r := range rs {
			if r.State == a.State {
				own = append(own, r)
			}
		}
		rs = own
	}
	c.Recipients = rs
	if tpl, err := s.templateAt(ctx, c.TemplateID, c.TemplateVersion); err == nil {
		c.TemplateSlug, c.TemplateName = tpl.Slug, tpl.Name
	}
	atts, err := s.attachments(ctx, c.ID, !c.Viewer.Metadata)
	if err != nil {
		return err
	}
	c.Attachments = atts
	s.mask(c)
	if c.Viewer.Metadata {
		return nil
	}
	return s.openContent(c)
}

// viewerOf says how the actor sees a communication (of which it needs the
// id, sender State and status): as the sender's or a recipient's State, as
// the Secretariat (metadata of a sent one), or not at all (not found).
func viewerOf(ctx context.Context, q db.Queryer, a *app.Actor, c *Communication) (Viewer, error) {
	v := Viewer{Sender: a.State != "" && a.State == c.SenderState}
	if !v.Sender && a.State != "" && c.Status == StatusSent {
		var err error
		if v.Recipient, err = isRecipient(ctx, q, c.ID, a.State); err != nil {
			return v, err
		}
	}
	v.Metadata = a.IsSecretariat() && c.Status == StatusSent
	if !v.Sender && !v.Recipient && !v.Metadata {
		return v, app.ErrNotFound("communication")
	}
	return v, nil
}

// Locate returns, of the communications with the references given, the
// ids of those the actor may open, by reference: the accountability log
// names communications by reference, and links those its reader may see.
// It reads no content and records no opening; the rule is Communication's.
func (s *Service) Locate(ctx context.Context, refs []string) (map[string]int64, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	found, err := commsByRef(ctx, s.DB, refs)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, c := range found {
		_, err := viewerOf(ctx, s.DB, a, c)
		switch {
		case err == nil:
			out[c.Ref] = c.ID
		case app.ErrorCode(err) != app.NotFound:
			return nil, err
		}
	}
	return out, nil
}

// mask takes out of c what its viewer may not see: a declared tension not
// its own, and for the Secretariat, everything but metadata.
func (s *Service) mask(c *Communication) {
	for _, r := range c.Recipients {
		// A declared tension is seen only by the State that declared it:
		// the sender (tension), or the recipient (its routing rule).
		if (r.Route == RouteTension && !c.Viewer.Sender) || (r.Route == RouteRouting && !c.Viewer.Recipient) {
			r.Route = RouteLevel
		}
	}
	if c.Viewer.Metadata {
		c.Content, c.Urgency, c.TLP, c.RespondBy, c.SenderEmail, c.CommitSalt = nil, "", "", nil, "", ""
		for _, r := range c.Recipients {
			r.Address, r.OpenedBy, r.AckedBy, r.OutcomeBy, r.BounceError = "", "", "", "", ""
		}
	}
}

func (s *Service) markOpened(ctx context.Context, a *app.Actor, c *Communication) error {
	unopened := false
	for _, r := range c.Recipients {
		unopened = unopened || (r.OpenedAt == nil && r.MovedAt == nil)
	}
	if !unopened {
		return nil
	}
	now := s.Now()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if ok, err := markOpened(ctx, tx, c.ID, a.State, a.Email, now); err != nil || !ok {
			return err
		}
		return s.event(ctx, tx, a, c.ThreadID, c.ID, EvOpened, "", "", 0, actOf(a, c, "comms.opened", now), now)
	})
	if err != nil {
		return err
	}
	for _, r := range c.Recipients {
		if r.OpenedAt == nil && r.MovedAt == nil {
			r.OpenedAt, r.OpenedBy = &now, a.Email
		}
	}
	return nil
}

// senderComm loads a communication for an act of its sender State.
func (s *Service) senderComm(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	return s.partyComm(ctx, id, true)
}

// recipientComm loads a sent communication for an act of a recipient State.
func (s *Service) recipientComm(ctx context.Context, id int64) (*app.Actor, *Communication, error) {
	return s.partyComm(ctx, id, false)
}

// partyComm loads a communication for an act of its sender State or of a
// recipient State: the other party is refused, anyone else does not see it.
func (s *Service) partyComm(ctx context.Context, id int64, sender bool) (*app.Actor, *Communication, error) {
	a, err := requireMember(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case sender && c.Viewer.Sender, !sender && c.Viewer.Recipient:
		return a, c, nil
	case sender && c.Viewer.Recipient:
		return nil, nil, app.Errorf(app.Forbidden, "error.comms_sender_only", "only the sender State can do this")
	case !sender && c.Viewer.Sender:
		return nil, nil, app.Errorf(app.Forbidden, "error.comms_recipient_only", "only a recipient State can do this")
	}
	return nil, nil, app.ErrNotFound("communication")
}

// STIX exports a communication's indicators as a STIX 2.1 bundle, for the
// sender and recipient States, where the TLP label allows: TLP:RED is never
// exported. The export is logged. It returns the bundle and the file name
// a user saves it under: the communication's reference.
func (s *Service) STIX(ctx context.Context, id int64) (bundle []byte, filename string, err error) {
	a, c, err := s.readable(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if !TLPAllowsEmail(c.TLP) {
		return nil, "", app.Errorf(app.Forbidden, "error.comms_red_export", "TLP:RED content is never exported")
	}
	created := c.CreatedAt
	if c.SentAt != nil {
		created = *c.SentAt
	}
	out, err := ExportSTIX(STIXSource{Ref: c.Ref, SenderState: c.SenderState, Created: created, TLP: c.TLP, Indicators: c.Content.Indicators, Exercise: c.IsExercise()})
	if err != nil {
		return nil, "", err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := s.logAct(ctx, tx, a, c, "comms.exported", s.Now())
		return err
	})
	return out, c.Ref + ".stix.json", err
}

// AttachmentFile returns an attachment with its bytes, for the sender and
// recipient States only.
func (s *Service) AttachmentFile(ctx context.Context, comm, id int64) (*Attachment, error) {
	a, c, err := s.readable(ctx, comm)
	if err != nil {
		return nil, err
	}
	v, err := attachmentData(ctx, s.DB, comm, id)
	if err != nil {
		return nil, err
	}
	f, err := s.openAttachment(id, v)
	if err != nil {
		return nil, err
	}
	// A file that leaves pocdir is in the log, as an export is.
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := s.logAct(ctx, tx, a, c, "comms.attachment_downloaded", s.Now())
		return err
	})
	return f, err
}
