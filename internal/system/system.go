// Package system builds the whole of pocdir from a configuration, once: the
// database (opened, migrated, its reference data loaded), the keys kept
// outside it, every capability's service with what it needs, and the HTTP
// handler of the pages and the API. The server and the demonstration
// (cmd/pocdir), and the tests (testkit) all build pocdir here, so that
// what is tested is what runs.
package system

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/api"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/capacity"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/exercises"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/inbox"
	"github.com/pocdir/pocdir/internal/mailin"
	"github.com/pocdir/pocdir/internal/metrics"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/regional"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/upload"
	"github.com/pocdir/pocdir/internal/web"
)

// Config is everything pocdir is built from. The command line turns its
// flags into one; tests fill one in.
type Config struct {
	// DB is the database: "sqlite:PATH", a plain path, or "postgres://…".
	DB string
	// Now is the clock (app.SystemClock when nil).
	Now app.Clock
	// Log receives the logs (slog.Default() when nil).
	Log *slog.Logger

	// The key files, kept outside the database. Empty: beside a SQLite
	// database, else in the working directory (see KeyPath).
	LogKeyFile     string // signs the accountability log's checkpoints
	DataKeyFile    string // seals secrets and communications at rest
	OpenPGPKeyFile string // signs the content emailed encrypted to PoCs
	// LogOrigin names the log in its checkpoints, when its key is created
	// ("pocdir/log" when empty); its host part names pocdir's OpenPGP key.
	LogOrigin string

	// BaseURL is the portal's public address (links in emails; without
	// it, invitations are not emailed and pages take the request's).
	BaseURL string
	// Threshold is the number of nominating States at which the directory
	// is operational (directory.DefaultThreshold when 0).
	Threshold int
	// SMTP is the mail server (no host: email waits in the outbox).
	SMTP notify.SMTP
	// ReplyAddress is the mailbox replies come to (reply@reply.example.org):
	// with it, every notification and check email can be answered by
	// email, at reply+TOKEN@ that domain, and bounces come back to it.
	// Mail for it arrives on InboundSMTPAddr (pocdir is the domain's mail
	// exchanger; InboundTLS, when set, is offered with STARTTLS) or is
	// collected from the mailbox at IMAPURL.
	ReplyAddress    string
	InboundSMTPAddr string
	InboundTLS      *tls.Config
	IMAPURL         string

	// SecureCookies marks cookies Secure; HSTS sends
	// Strict-Transport-Security (served over TLS); TrustedProxies are the
	// reverse proxies whose X-Forwarded-For is believed.
	SecureCookies  bool
	HSTS           bool
	TrustedProxies []netip.Prefix
	// Demo shows that the data is fictional; Catcher, in the demo, holds
	// the emails sent, shown at /demo/mail.
	Demo    bool
	Catcher *notify.Catcher

	// CheckBatch is how many messages a check campaign queues per step
	// (100 when 0).
	CheckBatch int
	// APIRateLimit is how many API requests a token may make in a minute
	// (api.DefaultRateLimit when 0).
	APIRateLimit int
	// LargeUploads is how many large request bodies are handled at once
	// (upload.DefaultPlaces when 0), and UploadWait how long one waits for
	// a place (upload.DefaultWait when 0).
	LargeUploads int
	UploadWait   time.Duration
	// AcceptRollback serves a database whose log is shorter than the
	// latest checkpoint this pocdir signed (a restore to an older state),
	// which States and witnesses will see as a rollback.
	AcceptRollback bool
	// MetricsToken, when set, serves the Prometheus metrics on the public
	// address at /metrics to a scraper that shows it as a bearer token.
	// (They can also be served on an address of their own: System.Metrics.)
	MetricsToken string
}

// KeyPath is where a key file is when none is given: beside a SQLite
// database, else in the working directory.
func KeyPath(given, dbURL, name string) string {
	if given != "" {
		return given
	}
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite://"), "sqlite:")
		return filepath.Join(filepath.Dir(path), name)
	}
	return name
}

// The default names of the key files.
const (
	LogKeyName     = "pocdir-log.key"
	DataKeyName    = "pocdir-data.key"
	OpenPGPKeyName = "pocdir-openpgp.key"
)

// System is a running pocdir: its database, keys, services and handler.
type System struct {
	Config    Config
	DB        *db.DB
	Catalog   *i18n.Catalog
	Mail      *notify.Writer
	LogKeys   *auditlog.Keys
	DataKeys  *seal.Keyring
	PGP       *notify.PGPSigner
	Audit     *auditlog.Log
	Directory *directory.Service
	Accounts  *account.Service
	Checks    *checks.Service
	// CII holds the States' lists of critical information infrastructure.
	CII *cii.Service
	// Regional holds the regional directories' contacts.
	Regional  *regional.Service
	Capacity  *capacity.Service
	Comms     *comms.Service
	Inbox     *inbox.Service
	Outbox    *notify.Outbox
	Sender    *notify.Sender
	Exercises *exercises.Service
	// Offline makes the signed and encrypted offline copies.
	Offline *offline.Service
	// Inbound receives replies (nil without a reply address); SMTP and
	// IMAP are how, when configured.
	Inbound     *mailin.Gateway
	InboundSMTP *mailin.SMTP
	InboundIMAP *mailin.IMAP
	Web         *web.Server
	// Metrics are the operator's Prometheus metrics of this instance.
	Metrics *metrics.Metrics
	// Handler serves the pages and, under /api/v1, the API.
	Handler http.Handler

	jobs     sync.WaitGroup  // the background jobs of Run
	stopping context.Context // Run's context
}

// Open opens and migrates the database, loads the reference list of States
// and the shipped templates, loads (or creates, on first start) the keys,
// and builds the services.
func Open(ctx context.Context, cfg Config) (*System, error) {
	d, err := OpenDB(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	sys, err := New(ctx, d, cfg)
	if err != nil {
		d.Close()
		return nil, err
	}
	return sys, nil
}

// OpenDB opens and migrates the database and loads its reference data: the
// States and the shipped communication templates.
func OpenDB(ctx context.Context, url string) (*db.DB, error) {
	d, err := db.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := directory.SyncStates(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	if err := comms.SeedTemplates(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// New builds pocdir on an open, migrated database: one more instance on the
// same database when called again (the keys are read from the same files).
func New(ctx context.Context, d *db.DB, cfg Config) (*System, error) {
	if cfg.Now == nil {
		cfg.Now = app.SystemClock
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LogOrigin == "" {
		cfg.LogOrigin = "pocdir/log"
	}
	sys := &System{Config: cfg, DB: d, Catalog: i18n.MustLoad()}
	var err error
	if cfg.MetricsToken != "" && len(cfg.MetricsToken) < metrics.MinTokenLength {
		return nil, fmt.Errorf("metrics token: at least %d characters are needed", metrics.MinTokenLength)
	}
	if sys.LogKeys, err = auditlog.LoadOrCreateKey(KeyPath(cfg.LogKeyFile, cfg.DB, LogKeyName), cfg.LogOrigin); err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	if sys.DataKeys, err = seal.LoadOrCreate(KeyPath(cfg.DataKeyFile, cfg.DB, DataKeyName)); err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	// The key's user ID is the address pocdir's mail comes from, so that
	// mail clients tie its signatures to the sender.
	signerEmail := "pocdir@" + strings.SplitN(cfg.LogOrigin, "/", 2)[0]
	if a, err := mail.ParseAddress(cfg.SMTP.From); err == nil {
		signerEmail = a.Address
	}
	signer, err := notify.LoadOrCreatePGPSigner(KeyPath(cfg.OpenPGPKeyFile, cfg.DB, OpenPGPKeyName), "pocdir", signerEmail)
	if err != nil {
		return nil, fmt.Errorf("OpenPGP key: %w", err)
	}
	cfg.Log.Info("OpenPGP key", "user_id", signerEmail, "fingerprint", signer.Fingerprint())
	sys.PGP = signer.At(cfg.Now)
	replies, err := notify.NewReplies(cfg.ReplyAddress)
	if err != nil {
		return nil, err
	}
	sys.Mail = notify.NewWriter(sys.Catalog, cfg.BaseURL).WithReplies(replies).WithStates(referenceState)
	sys.Audit = auditlog.New(d, cfg.Now, sys.LogKeys)
	sys.Metrics = metrics.New(metrics.Sources{DB: d.DB, Now: cfg.Now,
		Queue: func(ctx context.Context) (int64, *time.Time, error) {
			q, err := notify.QueueState(ctx, d)
			return q.Queued, q.Oldest, err
		},
		Log: func(ctx context.Context) (metrics.LogState, error) {
			h, err := sys.Audit.Health(ctx)
			return metrics.LogState(h), err
		}})
	sys.Accounts = newAccounts(d, cfg, sys.Mail, sys.DataKeys, sys.Metrics.SignInRefused)
	// Secrets stored before sealing, or under a rotated-out key, are sealed
	// under the current key.
	if n, err := sys.Accounts.SealTOTPSecrets(ctx); err != nil {
		return nil, fmt.Errorf("sealing TOTP secrets: %w", err)
	} else if n > 0 {
		cfg.Log.Info("TOTP secrets sealed with the data key", "count", n, "key", sys.DataKeys.Current())
	}
	sys.Audit.PublishedFile = auditlog.PublishedFile(KeyPath(cfg.LogKeyFile, cfg.DB, LogKeyName))
	if size, published, err := auditlog.CheckRollback(ctx, d, sys.Audit.PublishedFile); errors.Is(err, auditlog.ErrRollback) {
		if !cfg.AcceptRollback {
			return nil, fmt.Errorf("%w; to serve it anyway, start with --accept-rollback: every State's \"pocdir audit verify\" and every witness will then report that the log was rolled back from %d to %d entries", err, published, size)
		}
		cfg.Log.Warn("serving a log rolled back to an older state, as asked: States and witnesses will see the rollback", "entries", size, "published", published)
		if err := auditlog.AcceptRollback(sys.Audit.PublishedFile, size); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	sys.Directory = directory.New(directory.Config{DB: d, Now: cfg.Now, Mail: sys.Mail, Threshold: cfg.Threshold})
	sys.Checks = checks.New(checks.Config{DB: d, Now: cfg.Now, Directory: sys.Directory, Mail: sys.Mail, Batch: cfg.CheckBatch})
	sys.CII = cii.New(d, cfg.Now)
	sys.Regional = regional.New(d, cfg.Now, sys.Directory)
	sys.Comms = comms.New(comms.Config{DB: d, Now: cfg.Now, Directory: sys.Directory, Seal: sys.DataKeys, PGP: sys.PGP, Mail: sys.Mail})
	sys.Exercises = exercises.New(exercises.Config{DB: d, Now: cfg.Now, Comms: sys.Comms, Mail: sys.Mail})
	sys.Capacity = capacity.New(capacity.Config{DB: d, Now: cfg.Now, Exercises: sys.Exercises, Mail: sys.Mail})
	sys.Inbox = &inbox.Service{Comms: sys.Comms, Capacity: sys.Capacity, Exercises: sys.Exercises, Checks: sys.Checks, Directory: sys.Directory, Accounts: sys.Accounts, DB: d, Mail: sys.Mail}
	sys.Outbox = &notify.Outbox{DB: d, Now: cfg.Now}
	sys.Sender = notify.NewSender(d, cfg.Now, cfg.SMTP, cfg.Log)
	sys.Sender.Replies = replies
	sys.Sender.Outcomes = sys.Metrics.MailSent
	if err := sys.inbound(cfg, replies); err != nil {
		return nil, err
	}
	uploads := upload.New(cfg.LargeUploads, cfg.UploadWait)
	exports := &export.Service{Dir: sys.Directory, Catalog: sys.Catalog}
	sys.Offline = &offline.Service{Export: exports, Accounts: sys.Accounts, Log: sys.Audit, Catalog: sys.Catalog, Now: cfg.Now, DB: d, Mail: sys.Mail}
	apiHandler := (&api.API{Directory: sys.Directory, Export: exports, Offline: sys.Offline, CII: sys.CII, Regional: sys.Regional, Accounts: sys.Accounts, Audit: sys.Audit, Checks: sys.Checks, Capacity: sys.Capacity, Comms: sys.Comms, Exercises: sys.Exercises, Inbox: sys.Inbox, Log: cfg.Log,
		DB: d, Now: cfg.Now, RateLimit: cfg.APIRateLimit, Uploads: uploads}).Handler()
	sys.Web = &web.Server{DB: d, Directory: sys.Directory, Export: exports, Offline: sys.Offline, CII: sys.CII, Regional: sys.Regional, Accounts: sys.Accounts, Audit: sys.Audit, Checks: sys.Checks, Capacity: sys.Capacity, Comms: sys.Comms, Exercises: sys.Exercises,
		Outbox: sys.Outbox, Inbox: sys.Inbox, Inbound: sys.Inbound, Catcher: cfg.Catcher, OpenPGPKey: sys.PGP.PublicKey(), Catalog: sys.Catalog, Log: cfg.Log,
		SecureCookies: cfg.SecureCookies, HSTS: cfg.HSTS, API: apiHandler, TrustedProxies: cfg.TrustedProxies, BaseURL: cfg.BaseURL, Demo: cfg.Demo,
		Uploads: uploads}
	if cfg.MetricsToken != "" {
		sys.Web.Metrics = metrics.Guard(sys.Metrics.Handler(), cfg.MetricsToken)
	}
	sys.Handler = sys.Metrics.HTTP(sys.Web.Handler())
	return sys, nil
}

// inbound builds the gateway of replies by email, and listens for them
// when pocdir is the reply domain's mail exchanger.
func (sys *System) inbound(cfg Config, replies *notify.Replies) error {
	if replies == nil {
		if cfg.InboundSMTPAddr != "" || cfg.IMAPURL != "" {
			return fmt.Errorf("inbound email: give the reply address (--reply-address) that replies come to")
		}
		return nil
	}
	sys.Inbound = mailin.New(mailin.Config{DB: sys.DB, Now: cfg.Now, Replies: replies, Comms: sys.Comms, Checks: sys.Checks,
		PGP: sys.PGP, Mail: sys.Mail, Log: cfg.Log, Received: sys.Metrics.MailReceived})
	var err error
	if cfg.IMAPURL != "" {
		if sys.InboundIMAP, err = sys.Inbound.NewIMAP(cfg.IMAPURL); err != nil {
			return err
		}
	}
	if cfg.InboundSMTPAddr != "" {
		domain := replies.Address()[strings.LastIndexByte(replies.Address(), '@')+1:]
		if sys.InboundSMTP, err = sys.Inbound.ListenSMTP(cfg.InboundSMTPAddr, domain, cfg.InboundTLS); err != nil {
			return err
		}
	}
	return nil
}

// referenceState names a State for the emails, from the reference list.
func referenceState(code string) (iso2, english string, ok bool) {
	st, ok := directory.ReferenceState(code)
	return st.ISO2, st.Name, ok
}

func newAccounts(d *db.DB, cfg Config, mail *notify.Writer, keys *seal.Keyring, refused func(string)) *account.Service {
	return account.New(account.Config{DB: d, Now: cfg.Now, Mail: mail, Seal: keys, KnownState: directory.KnownState, Refused: refused})
}

// Admin is what the administration commands (user, token) need: the
// database and the accounts. They sign nothing and seal nothing, so they
// read no key, and never create one where an operator happens to run them.
type Admin struct {
	DB       *db.DB
	Accounts *account.Service
}

// OpenAdmin opens and migrates the database for an administration command.
func OpenAdmin(ctx context.Context, cfg Config) (*Admin, error) {
	if cfg.Now == nil {
		cfg.Now = app.SystemClock
	}
	d, err := OpenDB(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	return &Admin{DB: d, Accounts: newAccounts(d, cfg, notify.NewWriter(i18n.MustLoad(), cfg.BaseURL), nil, nil)}, nil
}

// Close waits for the background jobs to finish their step (once Run's
// context has ended), stops receiving mail, and closes the database.
func (s *System) Close() error {
	s.waitJobs()
	if s.InboundSMTP != nil {
		s.InboundSMTP.Close()
	}
	return s.DB.Close()
}

// Run runs the background jobs until ctx ends: the log's integration of
// entries left pending, its checkpoints,
// the outbox's delivery (when there is a mail server), reconfirmation
// reminders and key warnings, communication checks, the communications'
// job (delivery onto recipients' lines, reminders before deadlines,
// departed PoCs' items to their alternates), the release of exercise
// injects at their time, the offline copies by e-mail, and the receiving of replies
// by email. Every job is safe on several instances at once. When ctx ends,
// each job finishes the step it is in (Close waits for them).
func (s *System) Run(ctx context.Context) {
	log := s.Config.Log
	s.stopping = ctx
	// The log integrates each change's entry right after its commit; this
	// job integrates those left by an instance that stopped in between
	// (and, at start-up, by this one).
	s.start(ctx, job{name: "log", every: time.Second, step: s.Audit.Integrate})
	s.start(ctx, job{name: "checkpoint", every: time.Minute, step: func(ctx context.Context) (int, error) {
		_, err := s.Audit.Latest(ctx)
		return 0, err
	}})
	if s.Config.SMTP.Host != "" {
		s.start(ctx, job{name: "outbox", every: 10 * time.Second, step: s.Sender.RunOnce, drain: true, wake: s.Sender.Queued()})
	}
	s.start(ctx, job{name: "reminders", every: time.Hour, step: s.Directory.SendReminders})
	s.start(ctx, job{name: "checks", every: 5 * time.Second, step: s.Checks.RunOnce})
	s.start(ctx, job{name: "comms", every: 5 * time.Second, step: s.Comms.RunOnce})
	s.start(ctx, job{name: "exercises", every: 5 * time.Second, step: s.Exercises.RunOnce})
	s.start(ctx, job{name: "digests", every: 5 * time.Minute, step: s.Inbox.Digests})
	s.start(ctx, job{name: "sessions", every: time.Hour, step: s.Accounts.PurgeSessions, drain: true})
	s.start(ctx, job{name: "offline-mail", every: time.Hour, step: s.Offline.MailCopies})
	s.start(ctx, job{name: "regional", every: 2 * time.Second, step: s.Regional.Step, drain: true})
	if s.InboundIMAP != nil {
		s.start(ctx, job{name: "imap", every: 30 * time.Second, step: s.InboundIMAP.Collect})
	}
	if s.InboundSMTP != nil {
		log.Info("receiving replies by SMTP", "addr", s.InboundSMTP.Addr().String(), "starttls", s.Config.InboundTLS != nil)
		s.jobs.Add(2)
		go func() {
			defer s.jobs.Done()
			if err := s.InboundSMTP.Serve(); err != nil {
				log.Error("inbound smtp stopped", "err", err)
			}
		}()
		go func() {
			defer s.jobs.Done()
			<-ctx.Done()
			// The messages being received are recorded (or refused
			// with "try again later") before the listener closes.
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s.InboundSMTP.Shutdown(sctx)
		}()
	}
}

// stopWait is how long Close waits for the background jobs to finish
// their step after Run's context ended.
const stopWait = 30 * time.Second

// waitJobs waits for the background jobs once Run's context has ended.
func (s *System) waitJobs() {
	if s.stopping == nil || s.stopping.Err() == nil {
		return
	}
	done := make(chan struct{})
	go func() { s.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopWait):
		s.Config.Log.Warn("background jobs still running after the wait; closing the database")
	}
}
