// Package testkit builds real pocdir systems for tests: a migrated database
// on each engine under test (SQLite always, PostgreSQL when
// POCDIR_TEST_POSTGRES holds a URL), the services, the full HTTP handler, and
// accounts with their second factor. Only tests import it.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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

// OpenDB opens a fresh, migrated database on the engine with the reference
// States loaded. On PostgreSQL each call gets its own schema, dropped at the
// end of the test.
func OpenDB(t testing.TB, e Engine) *db.DB {
	t.Helper()
	ctx := context.Background()
	var u string
	switch e.Name {
	case "sqlite":
		u = "sqlite:" + filepath.Join(t.TempDir(), "pocdir.db")
	case "postgres":
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
		u = pu.String()
	}
	d, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := directory.SyncStates(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// System is a complete pocdir on one database.
type System struct {
	DB        *db.DB
	Clock     *Clock
	Directory *directory.Service
	Accounts  *account.Service
	Audit     *auditlog.Log
	Keys      *auditlog.Keys
	Outbox    *notify.Outbox
	Checks    *checks.Service
	Comms     *comms.Service
	Web       *web.Server
	Handler   http.Handler
	// DataKeyPath is the data keyring's file, to rotate it in tests.
	DataKeyPath string

	validatorOnce sync.Once
	validator     *User
}

// New builds a system on the engine with a test clock.
func New(t testing.TB, e Engine) *System {
	t.Helper()
	keys, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "log.key"), "pocdir.test/log")
	if err != nil {
		t.Fatal(err)
	}
	return NewWithKeys(t, e, keys)
}

// NewWithKeys builds a system whose log signs with the given keys (two
// systems with one key and different histories make a fork).
func NewWithKeys(t testing.TB, e Engine, keys *auditlog.Keys) *System {
	t.Helper()
	d := OpenDB(t, e)
	clock := NewClock()
	s := &System{DB: d, Clock: clock, Directory: directory.NewService(d, clock.Now), Accounts: account.NewService(d, clock.Now),
		Audit: auditlog.New(d, clock.Now, keys), Keys: keys}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	catalog := i18n.MustLoad()
	s.Accounts.Catalog = catalog
	s.DataKeyPath = filepath.Join(t.TempDir(), "data.key")
	ring, err := seal.LoadOrCreate(s.DataKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Accounts.Seal = ring
	s.Directory.Catalog = catalog
	s.Outbox = &notify.Outbox{DB: d, Now: clock.Now}
	s.Checks = checks.NewService(d, clock.Now, s.Directory)
	s.Comms = comms.NewService(d, clock.Now)
	s.Comms.Wire(s.Directory, ring, nil, "http://pocdir.test")
	if err := comms.SeedTemplates(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	s.Checks.Catalog, s.Checks.BaseURL = catalog, "http://pocdir.test"
	s.Web = &web.Server{DB: d, Directory: s.Directory, Accounts: s.Accounts, Audit: s.Audit, Catalog: catalog, Log: log, Outbox: s.Outbox, Checks: s.Checks, Comms: s.Comms,
		API: (&api.API{Directory: s.Directory, Accounts: s.Accounts, Audit: s.Audit, Checks: s.Checks, Comms: s.Comms, Log: log}).Handler()}
	s.Handler = s.Web.Handler()
	return s
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
