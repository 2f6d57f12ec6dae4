package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/backup"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBackupOnEachEngine: a SQLite pocdir's backup holds the database and
// the key files; a PostgreSQL pocdir's backup holds the key
// files and the manifest (pg_dump copies the database), and restores them.
func TestBackupOnEachEngine(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
		if _, err := sys.Audit.Latest(context.Background()); err != nil {
			t.Fatal(err)
		}
		keys := backup.KeyFiles{Log: sys.Config.LogKeyFile, Data: sys.Config.DataKeyFile, OpenPGP: sys.Config.OpenPGPKeyFile}
		out := filepath.Join(t.TempDir(), "b")
		pass := []byte("a long backup passphrase")
		if _, err := backup.Create(context.Background(), sys.DB, keys, []byte("short"), out, nil); err == nil {
			t.Error("a short passphrase was accepted")
		}
		m, err := backup.Create(context.Background(), sys.DB, keys, pass, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.LogSize == 0 || m.Checkpoint == "" || (e.Name == "postgres") != (m.Database == "") {
			t.Errorf("manifest %+v", m)
		}
		dir := t.TempDir()
		to := backup.KeyFiles{Log: filepath.Join(dir, "log.key"), Data: filepath.Join(dir, "data.key"), OpenPGP: filepath.Join(dir, "pgp.key")}
		dbPath := ""
		if e.Name == "sqlite" {
			dbPath = filepath.Join(dir, "pocdir.db")
		}
		if _, err := backup.Restore(out, pass, dbPath, to); err != nil {
			t.Fatal(err)
		}
		for _, pair := range [][2]string{{keys.Log, to.Log}, {keys.Data, to.Data}, {keys.OpenPGP, to.OpenPGP}} {
			a, _ := os.ReadFile(pair[0])
			b, _ := os.ReadFile(pair[1])
			st, err := os.Stat(pair[1])
			if err != nil || !bytes.Equal(a, b) || st.Mode().Perm() != 0o600 {
				t.Errorf("%s restored as %s: %v", pair[0], pair[1], err)
			}
		}
	})
}

// FuzzRestore feeds Restore any file as a backup: it never panics, and a
// file that is not a backup writes nothing.
//
//	go test -run '^$' -fuzz FuzzRestore -fuzztime 30s ./internal/backup/
func FuzzRestore(f *testing.F) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, body := range map[string]string{"manifest.json": `{"dialect":"sqlite","log_size":3}`, "keys.sealed": `{"salt":"AA==","nonce":"AA==","box":"AA=="}`} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	f.Add(b.Bytes())
	f.Add([]byte("not a tar file"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		keys := backup.KeyFiles{Log: filepath.Join(out, "l"), Data: filepath.Join(out, "d"), OpenPGP: filepath.Join(out, "p")}
		if _, err := backup.Restore(in, []byte("a long backup passphrase"), filepath.Join(out, "db"), keys); err == nil {
			t.Fatal("a made-up file restored")
		}
		for _, p := range []string{keys.Log, keys.Data, keys.OpenPGP, filepath.Join(out, "db")} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("%s written from a made-up file", p)
			}
		}
	})
}
