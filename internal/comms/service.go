// Package comms owns communications between States (capabilities C3 and
// C4): the templates, kept as data and versioned by the Secretariat; the
// communications composed from them, routed to the recipient States' PoCs,
// sealed at rest, notified by email (with the content under OpenPGP where
// the PoC has a key and the TLP label allows); each recipient's progress
// from notified to acknowledged and answered; escalation, onward sharing
// with consent, indicators and their STIX 2.1 form. The Secretariat sees
// who sent what to whom and when, never what it says.
//
// The package is split by use case: templates.go (the Secretariat's
// templates), compose.go (compose, save, send), route.go (routing and
// declared tensions), read.go (what a viewer may see), acts.go (what
// recipients and senders do with a communication), thread.go (threads,
// lists and counts), sealing.go (content at rest and the log's
// commitments), attachments.go, mail.go (the emails), run.go (the
// background job), indicators.go and stix.go; the SQL is in store.go.
package comms

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/seal"
)

// Encrypter encrypts a notification's content to a PoC's OpenPGP key and
// signs it with pocdir's key (notify.PGPSigner).
type Encrypter interface {
	EncryptAndSign(recipientArmoredPublicKey string, plaintext []byte) (string, error)
}

// Config is what the communications service is built from.
type Config struct {
	DB  *db.DB
	Now app.Clock
	// Directory routes communications to PoCs.
	Directory *directory.Service
	// Seal keeps the content, notes and attachments encrypted at rest.
	Seal *seal.Keyring
	// PGP, when set, encrypts the content of notifications to PoCs that
	// have an OpenPGP key, signed by pocdir's key; without it, emails carry
	// no content.
	PGP Encrypter
	// Mail writes the notifications and makes their links.
	Mail *notify.Writer
}

// Service is the rules and authorization of templates and communications.
type Service struct {
	// DB and Now are set by New and never changed.
	DB  *db.DB
	Now app.Clock

	dir  *directory.Service
	seal *seal.Keyring
	pgp  Encrypter
	mail *notify.Writer

	versionsMu sync.Mutex
	versions   map[[2]int64]*Template

	// sends commits together the communications sent at the same time
	// (db.Group): in a crisis burst each one's commit cost more than its
	// statements.
	sends *db.Group
}

// New returns the communications service. The directory, the data keyring
// and the mail writer are required: without them a communication could be
// neither routed, nor sealed, nor notified.
func New(c Config) *Service {
	if c.Directory == nil || c.Seal == nil || c.Mail == nil {
		panic("comms: New needs the directory, the data keyring and the mail writer")
	}
	s := &Service{DB: c.DB, Now: c.Now, dir: c.Directory, seal: c.Seal, pgp: c.PGP, mail: c.Mail, versions: map[[2]int64]*Template{}}
	if c.DB != nil && c.DB.Dialect == db.SQLite {
		// One lane: SQLite has one writer. Not on PostgreSQL: with four
		// lanes, as the replies by e-mail have, the crisis burst went no
		// faster (a batch runs its members one after another on one
		// connection, and the burst waits on round trips, not commits).
		s.sends = c.DB.NewGroup(8, 1)
	}
	return s
}

// Limits on what a communication may hold.
const (
	MaxToStates        = 195
	MaxTextRunes       = 300
	MaxTextareaRunes   = 20000
	MaxNoteRunes       = 5000
	MaxAttachments     = 5
	MaxAttachmentBytes = 10 << 20
	MaxTotalAttachment = 20 << 20

	// MaxListed is the length of a page of communications when none is
	// asked for: a list gives the newest MaxListed and a cursor to the
	// older (CommsPage).
	MaxListed = app.PageSize
)

// requireMember returns the actor if it is a user of a State who may write:
// communications are between States; the Secretariat routes and counts.
func requireMember(ctx context.Context) (*app.Actor, error) {
	a, err := app.RequireWrite(ctx)
	if err != nil {
		return nil, err
	}
	if a.State == "" || a.IsSecretariat() {
		return nil, app.Errorf(app.Forbidden, "error.comms_states_only", "only the users of a State send and answer communications")
	}
	return a, nil
}

// RefPrefix begins every communication's reference (PC-2026-…), by which a
// notification's link names it.
const RefPrefix = "PC-"

// newRef makes a communication's reference: forty random bits, so that in a
// busy year (10^5 communications) a new one is given a reference already
// taken about once in ten million; composing, and sharing a copy onward,
// make another when it happens (a variable, for the tests that make it
// happen).
var newRef = func(now time.Time) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return RefPrefix + strconv.Itoa(now.Year()) + "-" + base32.StdEncoding.EncodeToString(b)
}

func contentAAD(ref string) string        { return "comms/content/" + ref }
func attachmentAAD(id int64) string       { return "comms/attachment/" + strconv.FormatInt(id, 10) }
func noteAAD(id int64) string             { return "comms/note/" + strconv.FormatInt(id, 10) }
func inList(list []string, v string) bool { return slices.Contains(list, v) }
