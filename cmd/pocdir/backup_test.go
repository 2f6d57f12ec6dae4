package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/backup"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBackupAndRestore backs a SQLite pocdir up while it serves, restores
// it on a "new machine" (another directory), where its log passes the full
// check; and shows that the pocdir that signed later checkpoints refuses
// to serve the older copy unless told to.
func TestBackupAndRestore(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	ctx := context.Background()
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	if _, err := sys.Audit.Latest(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := sys.Config
	keyFlags := []string{"--db", cfg.DB, "--log-key", cfg.LogKeyFile, "--data-key", cfg.DataKeyFile, "--openpgp-key", cfg.OpenPGPKeyFile}
	out := filepath.Join(t.TempDir(), "pocdir.backup")
	t.Setenv("POCDIR_BACKUP_PASSPHRASE", "a long backup passphrase")
	if _, err := withStdin(t, "", func() error { return runBackup(append([]string{"--out", out}, keyFlags...)) }); err != nil {
		t.Fatal(err)
	}
	// pocdir goes on: more entries, a later checkpoint.
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	later, err := sys.Audit.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}

	newMachine := t.TempDir()
	restoredDB := "sqlite:" + filepath.Join(newMachine, "pocdir.db")
	restoreFlags := []string{"--from", out, "--db", restoredDB}
	t.Run("a wrong passphrase restores nothing", func(t *testing.T) {
		t.Setenv("POCDIR_BACKUP_PASSPHRASE", "not the passphrase at all")
		_, err := withStdin(t, "", func() error { return runRestore(restoreFlags) })
		if !errors.Is(err, backup.ErrPassphrase) {
			t.Errorf("got %v", err)
		}
		if entries, _ := os.ReadDir(newMachine); len(entries) != 0 {
			t.Errorf("left %v behind", entries)
		}
	})
	t.Run("the restored copy passes the log's full check", func(t *testing.T) {
		text, err := withStdin(t, "", func() error { return runRestore(restoreFlags) })
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if !strings.Contains(text, "the log verifies") || !strings.Contains(text, "rolled back") {
			t.Errorf("restore said\n%s", text)
		}
		if _, err := withStdin(t, "", func() error { return runRestore(restoreFlags) }); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("a second restore over the first: %v", err)
		}
		restored, err := system.Open(ctx, system.Config{DB: restoredDB})
		if err != nil {
			t.Fatalf("the restored pocdir does not start: %v", err)
		}
		defer restored.Close()
		if _, err := restored.Directory.Get(app.WithActor(ctx, app.System), "FRA"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the pocdir that signed later refuses the older copy unless told", func(t *testing.T) {
		older := cfg
		older.DB = restoredDB
		_, err := system.Open(ctx, older)
		if !errors.Is(err, auditlog.ErrRollback) || !strings.Contains(err.Error(), "--accept-rollback") {
			t.Fatalf("got %v", err)
		}
		older.AcceptRollback = true
		s, err := system.Open(ctx, older)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		cp, err := s.Audit.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size >= later.Size {
			t.Errorf("the rolled-back log has %d entries, the later checkpoint %d", cp.Size, later.Size)
		}
		if n, _ := auditlog.ReadPublished(auditlog.PublishedFile(cfg.LogKeyFile)); n != cp.Size {
			t.Errorf("after an accepted rollback, %d remembered", n)
		}
	})
}
