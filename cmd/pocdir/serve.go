package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/api"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/web"
)

// system is everything a running pocdir holds.
type system struct {
	DB        *db.DB
	Directory *directory.Service
	Accounts  *account.Service
	Audit     *auditlog.Log
	Sender    *notify.Sender
	Checks    *checks.Service
	Comms     *comms.Service
	PGP       *notify.PGPSigner
	Web       *web.Server
}

// addSMTPFlags defines the mail server's flags.
func addSMTPFlags(f *flags) func() notify.SMTP {
	host := f.String("smtp-host", "", "SMTP server for outgoing email; without it, email waits in the outbox")
	port := f.Int("smtp-port", 587, "SMTP port")
	user := f.String("smtp-user", "", "SMTP user name")
	pass := f.String("smtp-password", "", "SMTP password (prefer the environment variable)")
	from := f.String("smtp-from", "pocdir@localhost", "sender address of pocdir's email")
	tlsMode := f.String("smtp-tls", "starttls", "starttls (required), tls (implicit, port 465) or none (only for a server on the same host)")
	return func() notify.SMTP {
		return notify.SMTP{Host: *host, Port: *port, Username: *user, Password: *pass, From: *from, TLS: *tlsMode}
	}
}

// logConfig says where the accountability log's signing key lives.
type logConfig struct {
	keyFile, origin string
	// dataKeyFile holds the keys that seal secrets at rest (TOTP secrets,
	// communications).
	dataKeyFile string
	// pgpKeyFile holds pocdir's OpenPGP key, which signs the content it
	// sends encrypted to PoCs.
	pgpKeyFile string
}

// addLogFlags defines the log's flags; the returned function gives their
// values after parsing.
func addLogFlags(f *flags) func() *logConfig {
	key := f.String("log-key", "", "file of the accountability log's signing key, created on first start; default: beside a SQLite database, else ./pocdir-log.key (instances on one database must share it)")
	origin := f.String("log-origin", "pocdir/log", "name of the log in its checkpoints (used when the key is created), e.g. pocdir.example.org/log")
	data := f.String("data-key", "", "file of the keys that encrypt secrets and communications at rest, created on first start; default: beside a SQLite database, else ./pocdir-data.key (instances on one database must share it; back it up)")
	pgp := f.String("openpgp-key", "", "file of pocdir's OpenPGP key, which signs the content it emails encrypted to PoCs, created on first start; default: beside a SQLite database, else ./pocdir-openpgp.key (instances on one database must share it)")
	return func() *logConfig {
		return &logConfig{keyFile: *key, origin: *origin, dataKeyFile: *data, pgpKeyFile: *pgp}
	}
}

// keyPath is where the log key is kept when no file is given: next to the
// SQLite database, or in the working directory.
func (c *logConfig) keyPath(dbURL string) string {
	return keyBeside(c.keyFile, dbURL, "pocdir-log.key")
}

// dataKeyPath is where the data keys are kept when no file is given.
func (c *logConfig) dataKeyPath(dbURL string) string {
	return keyBeside(c.dataKeyFile, dbURL, "pocdir-data.key")
}

func keyBeside(given, dbURL, name string) string {
	if given != "" {
		return given
	}
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite://"), "sqlite:")
		return filepath.Join(filepath.Dir(path), name)
	}
	return name
}

// open opens and migrates the database, syncs the reference list of States
// and builds the services; with lc, it also loads (or creates) the log's
// signing key.
func open(ctx context.Context, url string, lc *logConfig) (*system, error) {
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
	sys := &system{DB: d, Directory: directory.NewService(d, app.SystemClock), Accounts: account.NewService(d, app.SystemClock)}
	// Administration commands append to the log but never sign: they do not
	// need the key, and must not create a stray one.
	if lc != nil {
		keys, err := auditlog.LoadOrCreateKey(lc.keyPath(url), lc.origin)
		if err != nil {
			d.Close()
			return nil, err
		}
		sys.Audit = auditlog.New(d, app.SystemClock, keys)
		ring, err := seal.LoadOrCreate(lc.dataKeyPath(url))
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("data key: %w", err)
		}
		sys.Accounts.Seal = ring
		// Secrets stored before sealing, or under a rotated-out key, are
		// sealed under the current key.
		if n, err := sys.Accounts.SealTOTPSecrets(ctx); err != nil {
			d.Close()
			return nil, fmt.Errorf("sealing TOTP secrets: %w", err)
		} else if n > 0 {
			slog.Info("TOTP secrets sealed with the data key", "count", n, "key", ring.Current())
		}
	}
	catalog := i18n.MustLoad()
	sys.Accounts.Catalog = catalog
	sys.Directory.Catalog = catalog
	sys.Sender = &notify.Sender{DB: d, Now: app.SystemClock, Log: slog.Default()}
	sys.Checks = checks.NewService(d, app.SystemClock, sys.Directory)
	sys.Comms = comms.NewService(d, app.SystemClock)
	if lc != nil {
		signer, err := notify.LoadOrCreatePGPSigner(keyBeside(lc.pgpKeyFile, url, "pocdir-openpgp.key"), "pocdir", "pocdir@"+strings.SplitN(lc.origin, "/", 2)[0])
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("OpenPGP key: %w", err)
		}
		sys.Comms.Wire(sys.Directory, sys.Accounts.Seal, signer, "")
		sys.PGP = signer
	}
	sys.Checks.Catalog = catalog
	sys.Web = &web.Server{DB: d, Directory: sys.Directory, Accounts: sys.Accounts, Audit: sys.Audit, Catalog: catalog, Log: slog.Default(),
		Outbox: &notify.Outbox{DB: d, Now: app.SystemClock}, Checks: sys.Checks, Comms: sys.Comms,
		API: (&api.API{Directory: sys.Directory, Accounts: sys.Accounts, Audit: sys.Audit, Checks: sys.Checks, Comms: sys.Comms, Log: slog.Default()}).Handler()}
	if sys.PGP != nil {
		sys.Web.OpenPGPKey = sys.PGP.PublicKey()
	}
	return sys, nil
}

func setupLog(format, level string) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
	if format == "text" {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

type serveConfig struct {
	addr, tlsCert, tlsKey, baseURL string
	secureCookies                  bool
	trustedProxies                 []netip.Prefix
}

// parsePrefixes reads a comma-separated list of addresses and CIDR ranges.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxy %q: %w", part, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func runServe(args []string) error {
	f := newFlags("serve", "[flags]")
	addr := f.String("addr", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	dbURL := f.String("db", "sqlite:pocdir.db", "database: sqlite:PATH, a plain path, or postgres://…")
	cert := f.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS and send HSTS")
	key := f.String("tls-key", "", "TLS private key file (PEM)")
	baseURL := f.String("base-url", "", "public address of the site, e.g. https://pocdir.example.org (for links in invitations)")
	secure := f.Bool("secure-cookies", false, "mark cookies Secure (set this behind a TLS-terminating proxy; implied by --tls-cert)")
	logFormat := f.String("log-format", "json", "log format: json or text")
	logLevel := f.String("log-level", "info", "log level: debug, info, warn, error")
	threshold := f.Int("operational-threshold", directory.DefaultThreshold, "number of States with a PoC at which the directory counts as operational")
	smtpConfig := addSMTPFlags(f)
	proxies := f.String("trusted-proxy", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed")
	lc := addLogFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	setupLog(*logFormat, *logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	sys, err := open(ctx, *dbURL, lc())
	if err != nil {
		return err
	}
	defer sys.DB.Close()
	slog.Info("database ready", "dialect", sys.DB.Dialect, "took", time.Since(start))
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return err
	}
	if *baseURL == "" {
		slog.Warn("no --base-url: invitation links carry the address each request came to, and are not emailed")
	}
	sys.Sender.SMTP = smtpConfig()
	sys.Directory.Threshold = *threshold
	if sys.Sender.SMTP.Host == "" {
		slog.Warn("no --smtp-host: email waits in the outbox")
	}
	return serve(ctx, sys, serveConfig{addr: *addr, tlsCert: *cert, tlsKey: *key, baseURL: *baseURL, secureCookies: *secure, trustedProxies: trusted}, nil)
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
// ready, when set, receives the listening address.
func serve(ctx context.Context, sys *system, cfg serveConfig, ready func(addr string)) error {
	tlsOn := cfg.tlsCert != "" || cfg.tlsKey != ""
	sys.Web.SecureCookies = cfg.secureCookies || tlsOn
	sys.Web.HSTS = tlsOn
	sys.Web.BaseURL = cfg.baseURL
	sys.Accounts.BaseURL = cfg.baseURL
	sys.Directory.BaseURL = cfg.baseURL
	sys.Checks.BaseURL = cfg.baseURL
	sys.Comms.BaseURL = strings.TrimRight(cfg.baseURL, "/")
	sys.Web.TrustedProxies = cfg.trustedProxies
	srv := &http.Server{
		Handler:           sys.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	if tlsOn {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	slog.Info("pocdir listening", "url", scheme+"://"+ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	go publishCheckpoints(ctx, sys.Audit, time.Minute)
	if sys.Sender.SMTP.Host != "" {
		go sys.Sender.Run(ctx, 10*time.Second)
	}
	go sendReminders(ctx, sys.Directory, time.Hour)
	// Communication checks start, dispatch in batches through the outbox,
	// remind and close in the background, never in a request.
	go sys.Checks.Run(ctx, 5*time.Second, slog.Default())
	// Communications: delivery and bounces onto the recipients' lines,
	// reminders before deadlines, departed PoCs' items to their alternates.
	if sys.Comms.Seal != nil {
		go sys.Comms.Run(ctx, 5*time.Second, slog.Default())
	}
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// publishCheckpoints signs a checkpoint of the log at a steady interval
// (when it has grown), so that witnesses and States see it advance even when
// nobody asks. Checkpoints are also signed on demand, by the API.
func publishCheckpoints(ctx context.Context, l *auditlog.Log, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := l.Latest(ctx); err != nil && ctx.Err() == nil {
			slog.Error("publishing a checkpoint", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendReminders queues the reconfirmation reminders that are due, every
// interval; several instances may run it (each reminder is queued once).
func sendReminders(ctx context.Context, d *directory.Service, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := d.SendReminders(ctx); err != nil && ctx.Err() == nil {
			slog.Error("queueing reconfirmation reminders", "err", err)
		} else if n > 0 {
			slog.Info("reconfirmation reminders queued", "states", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
