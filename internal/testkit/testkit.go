// Package testkit builds real pocdir systems for tests: a migrated database
// on each engine under test (SQLite always, PostgreSQL when
// POCDIR_TEST_POSTGRES holds a URL), the services, the full HTTP handler, and
// accounts with their second factor. Only tests import it.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/system"
)

func init() {
	// Migrations log at info level; in tests that is noise between results.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// Engine is a database engine under test.
type Engine struct {
	Name string // "sqlite" or "postgres"
	url  string
}

// Engines returns SQLite, and PostgreSQL when POCDIR_TEST_POSTGRES is set.
func Engines() []Engine {
	e := []Engine{{Name: "sqlite"}}
	if u := os.Getenv("POCDIR_TEST_POSTGRES"); u != "" {
		e = append(e, Engine{Name: "postgres", url: u})
	}
	return e
}

// ForEachEngine runs f as a subtest on every engine.
func ForEachEngine(t *testing.T, f func(t *testing.T, e Engine)) {
	for _, e := range Engines() {
		t.Run("on "+e.Name, func(t *testing.T) { f(t, e) })
	}
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set at a fixed instant.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// OpenDB opens a fresh database on the engine, migrated and with its
// reference data (the States, the shipped templates), as pocdir opens it.
// On PostgreSQL each call gets its own schema, dropped at the end of the
// test.
func OpenDB(t testing.TB, e Engine) *db.DB {
	t.Helper()
	d, err := system.OpenDB(context.Background(), dbURL(t, e))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// dbURL returns the URL of a fresh database on the engine: a file in the
// test's directory, or a PostgreSQL schema of its own.
func dbURL(t testing.TB, e Engine) string {
	t.Helper()
	if e.Name == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "pocdir.db")
	}
	ctx := context.Background()
	schema := "t_" + randHex(8)
	admin, err := db.Open(ctx, e.url)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	pu, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// System is a complete pocdir on one database, built as pocdir builds
// itself (system.Open), on a settable clock, with its key files in the
// test's directory.
type System struct {
	*system.System
	Clock *Clock
	// Keys are the log's signing keys.
	Keys *auditlog.Keys
	// DataKeyPath is the data keyring's file, to rotate it in tests;
	// LogKeyPath the log key's.
	DataKeyPath, LogKeyPath string

	validatorOnce sync.Once
	validator     *User
	approverOnce  sync.Once
	approver      *User
}

// BaseURL is the portal's address in the systems of tests, unless
// NewServed gives the test server's.
const BaseURL = "http://pocdir.test"

// Option changes the configuration of a test system.
type Option func(*system.Config)

// SharingLogKey makes a system sign its log with another's key (two
// systems with one key and different histories make a fork). pocdir
// refuses to serve a log shorter than one its key signed: the second
// system is started as an operator forcing it would (AcceptRollback).
func SharingLogKey(other *System) Option {
	return func(c *system.Config) { c.LogKeyFile, c.AcceptRollback = other.LogKeyPath, true }
}

// WithConfig changes the configuration as f does (a threshold, a batch size).
func WithConfig(f func(*system.Config)) Option { return Option(f) }

// New builds a system on the engine with a test clock.
func New(t testing.TB, e Engine, opts ...Option) *System {
	t.Helper()
	dir := t.TempDir()
	cfg := system.Config{DB: dbURL(t, e), LogOrigin: "pocdir.test/log", BaseURL: BaseURL,
		LogKeyFile: filepath.Join(dir, "log.key"), DataKeyFile: filepath.Join(dir, "data.key"), OpenPGPKeyFile: filepath.Join(dir, "openpgp.key"),
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	clock := NewClock()
	cfg.Now = clock.Now
	for _, o := range opts {
		o(&cfg)
	}
	sys, err := system.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	// SQLite's pool is small (db.SQLiteConns, at least four): a test runs
	// with two, so that a path that holds a connection while it waits for
	// two more, which a busy pool would stall, hangs the test that takes
	// it. Benchmarks measure the pool pocdir runs with.
	if _, bench := t.(*testing.B); sys.DB.Dialect == db.SQLite && !bench {
		sys.DB.SetMaxOpenConns(2)
		sys.DB.SetMaxIdleConns(2)
	}
	// Every test ends by counting again what the counters keep (issue 19
	// §4), before its system closes: a write that forgets its counter
	// fails the test that made it.
	t.Cleanup(func() { WantCounted(t, sys.DB) })
	return &System{System: sys, Clock: clock, Keys: sys.LogKeys, DataKeyPath: cfg.DataKeyFile, LogKeyPath: cfg.LogKeyFile}
}

// MailFailed records the queued messages to an address as refused for good
// by the mail server, as the sender does (the outbox's totals too).
func MailFailed(t testing.TB, d *db.DB, to string, at time.Time) {
	t.Helper()
	markMail(t, d, `UPDATE outbox SET failed_at = $1, last_error = '550 no such user' WHERE to_addr = $2 AND sent_at IS NULL AND failed_at IS NULL`, "failed", to, at)
}

// MailSent records the queued messages to an address as sent, as the
// sender does (the outbox's totals too).
func MailSent(t testing.TB, d *db.DB, to string, at time.Time) {
	t.Helper()
	markMail(t, d, `UPDATE outbox SET sent_at = $1 WHERE to_addr = $2 AND sent_at IS NULL`, "sent", to, at)
}

func markMail(t testing.TB, d *db.DB, update, total, to string, at time.Time) {
	t.Helper()
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		res, err := tx.Exec(update, at, to)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE outbox_tally SET `+total+` = `+total+` + $1 WHERE id = 1`, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// WantCounted fails the test when a counter kept in the database (a
// campaign's tally, the communications sent by month, the recipient lines
// by stage, the communications that wait for each State, the open requests
// to share by sender, the outbox's totals, the 30-day rule's figures)
// differs from a count of the rows: system.Recount, as `pocdir audit
// check` runs it. A database that cannot be read (a test that stopped it)
// is only noted.
func WantCounted(t testing.TB, d *db.DB) {
	t.Helper()
	problems, err := system.Recount(context.Background(), d)
	if err != nil {
		t.Logf("the counters were not counted again: %v", err)
	}
	for _, p := range problems {
		t.Errorf("a counter differs from the rows: %s", p)
	}
}

// NewServed builds a system whose base URL is that of a test server on
// 127.0.0.1 serving it, so that the links in its emails can be followed.
func NewServed(t testing.TB, e Engine, opts ...Option) (*System, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	sys := New(t, e, append(opts, func(c *system.Config) { c.BaseURL = url })...)
	srv.Config.Handler = sys.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return sys, srv
}

// Instance builds another instance of the system on the same database,
// with the same keys and clock, as a second pocdir process would be.
func (s *System) Instance(t testing.TB, opts ...Option) *System {
	t.Helper()
	cfg := s.Config
	for _, o := range opts {
		o(&cfg)
	}
	sys, err := system.New(context.Background(), s.DB, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &System{System: sys, Clock: s.Clock, Keys: sys.LogKeys, DataKeyPath: s.DataKeyPath, LogKeyPath: s.LogKeyPath}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Password is the password of every account made by User.
const Password = "correct horse battery staple"

// User is an account made for a test, with its TOTP secret.
type User struct {
	*account.User
	Secret string
}

// Actor returns the user's actor, as a browser session would carry it.
func (u *User) Actor() *app.Actor { return u.User.Actor() }

// Ctx returns a context acting as the user.
func (u *User) Ctx() context.Context { return app.WithActor(context.Background(), u.Actor()) }

// User creates an account with a TOTP second factor enrolled.
func (s *System) User(t testing.TB, email string, role app.Role, state string) *User {
	t.Helper()
	ctx := app.WithActor(context.Background(), app.System)
	u, err := s.Accounts.CreateUser(ctx, account.InviteInput{Email: email, Name: "Test " + email, Role: role, State: state}, Password)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	k, err := account.NewTOTPKey(email)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Accounts.SetTOTPSecret(ctx, u.ID, k.Secret()); err != nil {
		t.Fatal(err)
	}
	u.TOTPEnabled = true
	return &User{User: u, Secret: k.Secret()}
}

// Token creates an API token for the user.
func (s *System) Token(t testing.TB, u *User, scope string) string {
	t.Helper()
	tok, err := s.Accounts.CreateToken(app.WithActor(context.Background(), app.System), u.ID, "test", scope, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// Code returns the user's TOTP code at the system's current time.
func (s *System) Code(t testing.TB, u *User) string {
	t.Helper()
	c, err := account.TOTPCode(u.Secret, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ValidPoC returns a PoC input that passes validation.
func ValidPoC() directory.PoCInput {
	return directory.PoCInput{
		Level: directory.LevelTechnical, Agency: "National CERT", FunctionTitle: "Duty officer",
		Channels:  []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@example.org", Preferred: true}, {Kind: directory.ChannelPhone, Value: "+41 22 917 1234"}},
		Languages: []string{"en", "fr"}, TimeZone: "Europe/Zurich", Available247: true,
	}
}
