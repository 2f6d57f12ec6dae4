package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/seal"
	"github.com/pocdir/pocdir/internal/system"
)

func TestDataKeyRotate(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "p.db")
	ctx := app.WithActor(context.Background(), app.System)
	sys, err := system.Open(ctx, system.Config{DB: dbURL, LogOrigin: "pocdir.test/log"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := sys.Accounts.CreateUser(ctx, account.InviteInput{Email: "ops@un.example", Role: app.RoleSecretariat}, "a long password for ops")
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Accounts.SetTOTPSecret(ctx, u.ID, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	first := sys.DataKeys.Current()
	sys.DB.Close()
	keyFile := filepath.Join(dir, "pocdir-data.key")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the data key is not beside the database, owner-only: %v", err)
	}
	out, err := withStdin(t, "", func() error { return runDataKey([]string{"rotate", "--db", dbURL}) })
	if err != nil || !strings.Contains(out, "new data key") {
		t.Fatalf("%q %v", out, err)
	}
	ring, err := seal.Load(keyFile)
	if err != nil || ring.Current() == first {
		t.Fatalf("%v", err)
	}
	sys, err = system.Open(ctx, system.Config{DB: dbURL, LogOrigin: "pocdir.test/log"})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.DB.Close()
	var stored string
	if err := sys.DB.QueryRowContext(ctx, `SELECT totp_secret FROM users WHERE id = $1`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if seal.SealedWith(stored) != ring.Current() || strings.Contains(stored, "JBSWY3DP") {
		t.Errorf("stored %q, want sealed with %s", stored, ring.Current())
	}
}
