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
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pocdir/pocdir/internal/api"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/metrics"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/upload"
)

// addSMTPFlags defines the mail server's flags.
func addSMTPFlags(f *flags) func() notify.SMTP {
	host := f.String("smtp-host", "", "SMTP server for outgoing email; without it, email waits in the outbox")
	port := f.Int("smtp-port", 587, "SMTP port")
	user := f.String("smtp-user", "", "SMTP user name")
	pass := f.String("smtp-password", "", "SMTP password (prefer the environment variable)")
	from := f.String("smtp-from", "pocdir@localhost", "sender address of pocdir's email")
	tlsMode := f.String("smtp-tls", "starttls", "starttls (required), tls (implicit, port 465) or none (only for a server on the same host)")
	conns := f.Int("smtp-connections", 4, fmt.Sprintf("connections the outbox opens at once to the SMTP server (1 to %d): more send a burst sooner, if the server accepts that many from one client", notify.MaxConnections))
	return func() notify.SMTP {
		return notify.SMTP{Host: *host, Port: *port, Username: *user, Password: *pass, From: *from, TLS: *tlsMode, Connections: *conns}
	}
}

// addInboundFlags defines how replies by email come in.
func addInboundFlags(f *flags) func(cfg *system.Config) error {
	reply := f.String("reply-address", "", "mailbox that replies to pocdir's email come to, e.g. reply@reply.pocdir.example.org: emails then carry reply+TOKEN@ that domain, so that a PoC can acknowledge and answer by email; bounces come back to it")
	smtpAddr := f.String("inbound-smtp-addr", "", "listen for replies by SMTP on HOST:PORT (pocdir is the MX of the reply address's domain), e.g. :25")
	cert := f.String("inbound-tls-cert", "", "TLS certificate (PEM) offered with STARTTLS on --inbound-smtp-addr")
	key := f.String("inbound-tls-key", "", "TLS private key (PEM) for --inbound-tls-cert")
	imapURL := f.String("imap-url", "", "collect replies from a mailbox: imaps://USER:PASSWORD@HOST/MAILBOX (prefer the environment variable); the mailbox must be pocdir's own: what it records is deleted")
	return func(cfg *system.Config) error {
		cfg.ReplyAddress, cfg.InboundSMTPAddr, cfg.IMAPURL = *reply, *smtpAddr, *imapURL
		if (*cert == "") != (*key == "") {
			return errors.New("--inbound-tls-cert and --inbound-tls-key go together")
		}
		if *cert != "" {
			pair, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				return fmt.Errorf("inbound TLS: %w", err)
			}
			cfg.InboundTLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		}
		return nil
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
// The key flags a command may take (addLogFlags).
const (
	flagLogKey     = "log-key"
	flagLogOrigin  = "log-origin"
	flagDataKey    = "data-key"
	flagOpenPGPKey = "openpgp-key"
)

// addLogFlags defines the key flags named (all of them when none is), so
// that a command lists only the flags that apply to it.
func addLogFlags(f *flags, only ...string) func() *logConfig {
	want := func(name string) bool { return len(only) == 0 || slices.Contains(only, name) }
	var key, origin, data, pgp *string
	empty := ""
	key, origin, data, pgp = &empty, &empty, &empty, &empty
	if want(flagLogKey) {
		key = f.String(flagLogKey, "", "file of the accountability log's signing key, created on first start; default: beside a SQLite database, else ./pocdir-log.key (instances on one database must share it)")
	}
	if want(flagLogOrigin) {
		origin = f.String(flagLogOrigin, "pocdir/log", "name of the log in its checkpoints (used when the key is created), e.g. pocdir.example.org/log")
	}
	if want(flagDataKey) {
		data = f.String(flagDataKey, "", "file of the keys that encrypt secrets and communications at rest, created on first start; default: beside a SQLite database, else ./pocdir-data.key (instances on one database must share it; back it up)")
	}
	if want(flagOpenPGPKey) {
		pgp = f.String(flagOpenPGPKey, "", "file of pocdir's OpenPGP key, which signs the content it emails encrypted to PoCs, created on first start; default: beside a SQLite database, else ./pocdir-openpgp.key (instances on one database must share it)")
	}
	return func() *logConfig {
		return &logConfig{keyFile: *key, origin: *origin, dataKeyFile: *data, pgpKeyFile: *pgp}
	}
}

// keyPath is where the log key is kept when no file is given: next to the
// SQLite database, or in the working directory.
func (c *logConfig) keyPath(dbURL string) string {
	return system.KeyPath(c.keyFile, dbURL, system.LogKeyName)
}

// dataKeyPath is where the data keys are kept when no file is given.
func (c *logConfig) dataKeyPath(dbURL string) string {
	return system.KeyPath(c.dataKeyFile, dbURL, system.DataKeyName)
}

// config is the system's configuration of the key flags, on the database.
func (c *logConfig) config(dbURL string) system.Config {
	return system.Config{DB: dbURL, LogKeyFile: c.keyFile, LogOrigin: c.origin, DataKeyFile: c.dataKeyFile, OpenPGPKeyFile: c.pgpKeyFile}
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

// serveConfig is how the HTTP server listens.
type serveConfig struct {
	addr, tlsCert, tlsKey string
	// metricsAddr, when set, serves the metrics at /metrics on an address
	// of their own (plain HTTP, for a private network).
	metricsAddr string
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
	inbound := addInboundFlags(f)
	acceptRollback := f.Bool("accept-rollback", false, "serve a database whose log is shorter than the latest checkpoint this pocdir signed (a restore to an older state): every State's audit verify will report the rollback")
	apiRate := f.Int("api-rate-limit", api.DefaultRateLimit, "API requests that one token may make in a minute, across every instance (429 with Retry-After beyond)")
	largeUploads := f.Int("large-uploads", upload.DefaultPlaces, "how many large request bodies (over 1 MB: communications with files) are handled at once; the others are received into encrypted temporary files and wait")
	proxies := f.String("trusted-proxy", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed")
	metricsAddr := f.String("metrics-addr", "", "serve the Prometheus metrics at /metrics on this address of their own (HOST:PORT, plain HTTP: keep it private), e.g. 127.0.0.1:9464")
	metricsToken := f.String("metrics-token-file", "", "file holding a token (at least 32 characters: openssl rand -hex 32) with which a scraper may read /metrics on the public address, as a bearer token")
	memLimit := f.Int("memory-limit-mib", defaultMemoryLimitMiB, "soft limit, in MiB, of the memory the Go runtime manages (heap, stacks): the garbage collector works harder as it nears it, and never refuses memory past it; 0 for none (GOMEMLIMIT, when set, takes precedence)")
	lc := addLogFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	setupLog(*logFormat, *logLevel)
	if err := setMemoryLimit(*memLimit); err != nil {
		return err
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return err
	}
	tlsOn := *cert != "" || *key != ""
	cfg := lc().config(*dbURL)
	cfg.BaseURL, cfg.Threshold, cfg.SMTP = strings.TrimRight(*baseURL, "/"), *threshold, smtpConfig()
	cfg.SecureCookies, cfg.HSTS, cfg.TrustedProxies = *secure || tlsOn, tlsOn, trusted
	if err := inbound(&cfg); err != nil {
		return err
	}
	cfg.AcceptRollback = *acceptRollback
	if n := cfg.SMTP.Connections; n < 1 || n > notify.MaxConnections {
		return fmt.Errorf("--smtp-connections %d: give 1 to %d", n, notify.MaxConnections)
	}
	if *apiRate < 1 {
		return fmt.Errorf("--api-rate-limit %d: give a number of requests per minute, at least 1", *apiRate)
	}
	cfg.APIRateLimit = *apiRate
	if *largeUploads < 1 {
		return fmt.Errorf("--large-uploads %d: give at least 1", *largeUploads)
	}
	cfg.LargeUploads = *largeUploads
	if *metricsToken != "" {
		if cfg.MetricsToken, err = metrics.ReadToken(*metricsToken); err != nil {
			return err
		}
	}
	if cfg.BaseURL == "" {
		slog.Warn("no --base-url: invitation links carry the address each request came to, and are not emailed")
	}
	if cfg.SMTP.Host == "" {
		slog.Warn("no --smtp-host: email waits in the outbox")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	sys, err := system.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer sys.Close()
	slog.Info("database ready", "dialect", sys.DB.Dialect, "took", time.Since(start))
	return serve(ctx, sys, serveConfig{addr: *addr, tlsCert: *cert, tlsKey: *key, metricsAddr: *metricsAddr}, nil)
}

// defaultMemoryLimitMiB keeps a serving process near 100 MB resident under
// load (README, "At full size, served"): about 31 MB are the program's own
// mapped pages and, on SQLite, some 30 MB the database's memory (page
// caches, schemas, statements), outside the Go runtime's count; with no
// limit, the heap grows to twice what is live while pages are drawn at
// once.
const defaultMemoryLimitMiB = 48

// setMemoryLimit sets the Go runtime's soft memory limit to mib MiB,
// unless GOMEMLIMIT is set (the runtime has read it) or mib is 0.
func setMemoryLimit(mib int) error {
	if mib < 0 {
		return fmt.Errorf("--memory-limit-mib %d: give a number of MiB, or 0 for none", mib)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok || mib == 0 {
		return nil
	}
	debug.SetMemoryLimit(int64(mib) << 20)
	return nil
}

// serve runs the HTTP server and the background jobs until ctx ends, then
// shuts down gracefully. ready, when set, receives the listening address.
func serve(ctx context.Context, sys *system.System, cfg serveConfig, ready func(addr string)) error {
	tlsOn := cfg.tlsCert != "" || cfg.tlsKey != ""
	srv := &http.Server{
		Handler:           sys.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	var certs *certReloader
	if tlsOn {
		var err error
		if certs, err = loadCert(cfg.tlsCert, cfg.tlsKey); err != nil {
			return err
		}
		srv.TLSConfig = tlsConfig(certs)
		// A renewed certificate is read again on SIGHUP (systemctl
		// reload), without a restart: the connections open go on.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					if err := certs.reload(); err != nil {
						slog.Error("reloading the TLS certificate; the previous one stays", "err", err)
					} else {
						slog.Info("TLS certificate reloaded", "cert", cfg.tlsCert)
					}
				}
			}
		}()
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
	if cfg.metricsAddr != "" {
		stopMetrics, err := serveMetrics(sys, cfg.metricsAddr)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	sys.Run(ctx)
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
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

// serveMetrics serves the metrics on an address of their own, and nothing
// else: the scraper needs no token there, so the address must be private.
func serveMetrics(sys *system.System, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", sys.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)}
	slog.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// tlsConfig is TLS 1.2 and 1.3 only; TLS 1.2 with forward secrecy and
// authenticated encryption only (no CBC, no RSA key exchange).
func tlsConfig(certs *certReloader) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.get,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// certReloader holds the served certificate, read again from its files on
// demand.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

func loadCert(certFile, keyFile string) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile}
	return c, c.reload()
}

// reload reads the files; a pair that does not load leaves the served one.
func (c *certReloader) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s: %w", c.certFile, err)
	}
	c.mu.Lock()
	c.cert = &pair
	c.mu.Unlock()
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}
