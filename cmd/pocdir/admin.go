package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
)

func runMigrate(args []string) error {
	f := newFlags("migrate", "--db URL")
	dbURL := f.String("db", "sqlite:pocdir.db", "database: sqlite:PATH, a plain path, or postgres://…")
	if err := f.Parse(args); err != nil {
		return err
	}
	setupLog("text", "info")
	d, err := system.OpenDB(context.Background(), *dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Println("database is up to date")
	return nil
}

func runUser(args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "invite") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			newUserFlags("create").Usage()
			fmt.Fprintln(os.Stderr)
			newUserFlags("invite").Usage()
			return errFlagHelp
		}
		return errors.New(`say "pocdir user create" or "pocdir user invite" (-h for flags)`)
	}
	sub := args[0]
	uf := newUserFlags(sub)
	if err := uf.Parse(args[1:]); err != nil {
		return err
	}
	dbURL, email, role, state, name, baseURL := uf.db, uf.email, uf.role, uf.state, uf.name, uf.baseURL
	setupLog("text", "warn")
	ctx := app.WithActor(context.Background(), app.System)
	// The link is printed for the operator to pass on, not emailed.
	sys, err := system.OpenAdmin(ctx, system.Config{DB: *dbURL})
	if err != nil {
		return err
	}
	defer sys.DB.Close()
	in := account.InviteInput{Email: *email, Name: *name, Role: app.Role(*role), State: *state, Organisation: *uf.organisation}
	if sub == "invite" {
		inv, err := sys.Accounts.Invite(ctx, in)
		if err != nil {
			return describe(err)
		}
		fmt.Printf("Invitation for %s (%s %s), valid until %s:\n%s/invite/%s\n", inv.Email, inv.Role, inv.State,
			inv.ExpiresAt.Format(time.RFC3339), strings.TrimRight(*baseURL, "/"), inv.Token)
		return nil
	}
	fmt.Fprintln(os.Stderr, "Password (read from standard input, first line):")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no password on standard input")
	}
	u, err := sys.Accounts.CreateUser(ctx, in, strings.TrimRight(line, "\r\n"))
	if err != nil {
		return describe(err)
	}
	fmt.Printf("Created %s (%s%s). At first sign-in the user sets up the second factor (TOTP).\n", u.Email, u.Role, stateSuffix(u.State))
	return nil
}

type userFlags struct {
	*flags
	db, email, role, state, name, baseURL *string
	organisation                          *string
}

func newUserFlags(sub string) *userFlags {
	f := &userFlags{flags: newFlags("user "+sub, "--email E --role secretariat|focal-point|officer|observer [--state ISO3] [--organisation O] [--db URL]")}
	f.db = f.String("db", "sqlite:pocdir.db", "database URL")
	f.email = f.Local("email", "", "email address of the account")
	f.role = f.Local("role", "", "secretariat, focal-point, officer or observer")
	f.state = f.Local("state", "", "ISO 3166-1 alpha-3 code of the user's State (not for the Secretariat)")
	f.name = f.Local("name", "", "the person's name")
	f.organisation = f.Local("organisation", "", "an observer's organisation, e.g. \"OSCE Secretariat\" (observers only; what it reads is granted on the Observers page)")
	if sub == "invite" {
		f.baseURL = f.String("base-url", "http://127.0.0.1:8080", "public address of the site, for the invitation link")
	}
	return f
}

func stateSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// describe turns an application error into a message that names the field.
func describe(err error) error {
	e := app.AsError(err)
	if e.Code == app.Internal {
		return err
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, "--"+f.Field+": "+f.Message)
	}
	if len(parts) == 0 {
		if e.Field != "" {
			return fmt.Errorf("--%s: %s", e.Field, e.Message)
		}
		return errors.New(e.Message)
	}
	return errors.New(strings.Join(parts, "; "))
}

func runToken(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			newTokenFlags().Usage()
			return errFlagHelp
		}
		return errors.New(`say "pocdir token create" (-h for flags)`)
	}
	tf := newTokenFlags()
	if err := tf.Parse(args[1:]); err != nil {
		return err
	}
	dbURL, email, name, scope, days := tf.db, tf.email, tf.name, tf.scope, tf.days
	setupLog("text", "warn")
	ctx := app.WithActor(context.Background(), app.System)
	sys, err := system.OpenAdmin(ctx, system.Config{DB: *dbURL})
	if err != nil {
		return err
	}
	defer sys.DB.Close()
	u, err := sys.Accounts.UserByEmail(ctx, *email)
	if err != nil {
		return describe(err)
	}
	t, err := sys.Accounts.CreateToken(ctx, u.ID, *name, *scope, time.Duration(*days)*24*time.Hour)
	if err != nil {
		return describe(err)
	}
	fmt.Println(t.Secret)
	return nil
}

type tokenFlags struct {
	*flags
	db, email, name, scope *string
	days                   *int
}

func newTokenFlags() *tokenFlags {
	f := &tokenFlags{flags: newFlags("token create", "--email E --name N [--scope read|write] [--days N] [--db URL]")}
	f.db = f.String("db", "sqlite:pocdir.db", "database URL")
	f.email = f.Local("email", "", "email address of the token's user")
	f.name = f.Local("name", "", "a name for the token, e.g. the system that uses it")
	f.scope = f.Local("scope", "read", "read (reads only) or write (whatever the user's role allows)")
	f.days = f.FlagSet.Int("days", 90, "days until the token expires (0: never)")
	return f
}

func runTOTPCode(args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, "Usage: pocdir totp-code SECRET\n\nPrints the current six-digit code of a base32 TOTP secret, as an authenticator app would.")
		if len(args) == 1 {
			return errFlagHelp
		}
		return errors.New("give one secret")
	}
	code, err := account.TOTPCode(strings.ToUpper(strings.ReplaceAll(args[0], " ", "")), time.Now())
	if err != nil {
		return err
	}
	fmt.Println(code)
	return nil
}
