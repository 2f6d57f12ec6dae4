package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/api"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/web"
)

// system is everything a running pocdir holds.
type system struct {
	DB        *db.DB
	Directory *directory.Service
	Accounts  *account.Service
	Web       *web.Server
}

// open opens and migrates the database, syncs the reference list of States
// and builds the services.
func open(ctx context.Context, url string) (*system, error) {
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
	sys := &system{DB: d, Directory: directory.NewService(d, app.SystemClock), Accounts: account.NewService(d, app.SystemClock)}
	sys.Web = &web.Server{DB: d, Directory: sys.Directory, Accounts: sys.Accounts, Catalog: i18n.MustLoad(), Log: slog.Default(),
		API: (&api.API{Directory: sys.Directory, Accounts: sys.Accounts, Log: slog.Default()}).Handler()}
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
	if err := f.Parse(args); err != nil {
		return err
	}
	setupLog(*logFormat, *logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	sys, err := open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer sys.DB.Close()
	slog.Info("database ready", "dialect", sys.DB.Dialect, "took", time.Since(start))
	return serve(ctx, sys, serveConfig{addr: *addr, tlsCert: *cert, tlsKey: *key, baseURL: *baseURL, secureCookies: *secure}, nil)
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
// ready, when set, receives the listening address.
func serve(ctx context.Context, sys *system, cfg serveConfig, ready func(addr string)) error {
	tlsOn := cfg.tlsCert != "" || cfg.tlsKey != ""
	sys.Web.SecureCookies = cfg.secureCookies || tlsOn
	sys.Web.HSTS = tlsOn
	sys.Web.BaseURL = cfg.baseURL
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
