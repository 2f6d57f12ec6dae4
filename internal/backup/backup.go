// Package backup makes and restores backups of pocdir: an online,
// consistent copy of a SQLite database (VACUUM INTO, while pocdir serves)
// with the key files it cannot be read or extended without (the log's
// signing key, the data keys, pocdir's OpenPGP key), those sealed under a
// passphrase (scrypt, XChaCha20-Poly1305). A PostgreSQL database is copied
// with the real tool, pg_dump; its backup here holds the key files only.
// The archive is a tar file with a manifest that says when, which log size
// and which checkpoint it holds.
package backup

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/seal"
)

// KeyFiles are the paths of the key files of a pocdir.
type KeyFiles struct {
	Log, Data, OpenPGP string
}

// Manifest says what a backup holds.
type Manifest struct {
	CreatedAt time.Time `json:"created_at"`
	Dialect   string    `json:"dialect"`
	// LogSize is the number of entries of the accountability log in the
	// copy, and Checkpoint the latest checkpoint signed within it.
	LogSize    int64  `json:"log_size"`
	Checkpoint string `json:"checkpoint,omitempty"`
	// Database is the SHA-256 of the database file ("" for PostgreSQL,
	// whose copy is pg_dump's).
	Database string `json:"database_sha256,omitempty"`
}

// The names inside the archive.
const (
	manifestName = "manifest.json"
	databaseName = "pocdir.db"
	keysName     = "keys.sealed"
)

// MinPassphrase is the shortest passphrase accepted.
const MinPassphrase = 12

// Create writes a backup of d and its key files to the file out (which
// must not exist). On SQLite the copy is made while pocdir serves and is
// consistent (VACUUM INTO); on PostgreSQL only the keys and the manifest
// are written: the database is dumped with pg_dump. progress, when set,
// is told what is being done.
func Create(ctx context.Context, d *db.DB, keys KeyFiles, passphrase []byte, out string, progress func(string)) (*Manifest, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if len(passphrase) < MinPassphrase {
		return nil, fmt.Errorf("backup: the passphrase must have at least %d characters", MinPassphrase)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(out)
		}
	}()
	m := &Manifest{CreatedAt: time.Now().UTC(), Dialect: string(d.Dialect)}
	tw := tar.NewWriter(f)
	if d.Dialect == db.SQLite {
		progress("copying the database (VACUUM INTO)")
		tmp := out + ".db-copy"
		os.Remove(tmp)
		defer os.Remove(tmp)
		if _, err := d.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
			return nil, fmt.Errorf("backup: copying the database: %w", err)
		}
		if err := logState(ctx, tmp, m); err != nil {
			return nil, err
		}
		progress(fmt.Sprintf("writing the copy (%d log entries)", m.LogSize))
		sum, err := addFile(tw, databaseName, tmp)
		if err != nil {
			return nil, err
		}
		m.Database = sum
	} else if err := readLogState(ctx, d, m); err != nil {
		return nil, err
	}
	progress("sealing the key files under the passphrase")
	sealed, err := sealKeys(keys, passphrase)
	if err != nil {
		return nil, err
	}
	if err := addBytes(tw, keysName, sealed); err != nil {
		return nil, err
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := addBytes(tw, manifestName, mb); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ok = true
	return m, nil
}

// logState reads the log's size and latest checkpoint from a copy.
func logState(ctx context.Context, path string, m *Manifest) error {
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return fmt.Errorf("backup: reading the copy: %w", err)
	}
	defer d.Close()
	return readLogState(ctx, d, m)
}

func readLogState(ctx context.Context, d *db.DB, m *Manifest) error {
	if err := d.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&m.LogSize); err != nil {
		return fmt.Errorf("backup: reading the log's size: %w", err)
	}
	err := d.QueryRowContext(ctx, `SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&m.Checkpoint)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		return fmt.Errorf("backup: reading the latest checkpoint: %w", err)
	}
	return nil
}

func addFile(tw *tar.Writer, name, path string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: time.Now()}); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), src); err != nil {
		return "", fmt.Errorf("backup: writing %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func addBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("backup: writing %s: %w", name, err)
	}
	return nil
}

// The passphrase's key: scrypt with the parameters recommended for
// interactive use in 2017 (N=2^15), raised to 2^17 for files kept long.
const scryptN, scryptR, scryptP = 1 << 17, 8, 1

type sealedKeys struct {
	Salt  []byte `json:"salt"`
	Nonce []byte `json:"nonce"`
	Box   []byte `json:"box"`
}

func passKey(passphrase, salt []byte) ([]byte, error) {
	return scrypt.Key(passphrase, salt, scryptN, scryptR, scryptP, chacha20poly1305.KeySize)
}

func sealKeys(keys KeyFiles, passphrase []byte) ([]byte, error) {
	files := map[string]string{}
	for name, path := range map[string]string{"log": keys.Log, "data": keys.Data, "openpgp": keys.OpenPGP} {
		b, err := seal.ReadSecretFile(path)
		if err != nil {
			return nil, fmt.Errorf("backup: the %s key: %w", name, err)
		}
		files[name] = string(b)
	}
	plain, _ := json.Marshal(files)
	salt, nonce := make([]byte, 16), make([]byte, chacha20poly1305.NonceSizeX)
	rand.Read(salt)
	rand.Read(nonce)
	key, err := passKey(passphrase, salt)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sealedKeys{Salt: salt, Nonce: nonce, Box: aead.Seal(nil, nonce, plain, []byte("pocdir backup keys v1"))})
}

// ErrPassphrase is returned by Restore for a wrong passphrase (or a
// damaged archive).
var ErrPassphrase = errors.New("the passphrase does not open the key files (wrong passphrase, or a damaged backup)")

func openKeys(b, passphrase []byte) (map[string]string, error) {
	var s sealedKeys
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("backup: the sealed keys: %w", err)
	}
	key, err := passKey(passphrase, s.Salt)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return nil, ErrPassphrase
	}
	plain, err := aead.Open(nil, s.Nonce, s.Box, []byte("pocdir backup keys v1"))
	if err != nil {
		return nil, ErrPassphrase
	}
	files := map[string]string{}
	if err := json.Unmarshal(plain, &files); err != nil {
		return nil, fmt.Errorf("backup: the key files: %w", err)
	}
	return files, nil
}

// Restore reads a backup: it writes the key files to keys and, for a
// SQLite backup, the database to dbPath ("" for a PostgreSQL backup, whose
// database pg_restore brings back). It refuses to overwrite any file, and
// checks the copy against its manifest. It returns the manifest.
func Restore(in string, passphrase []byte, dbPath string, keys KeyFiles) (*Manifest, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	var m Manifest
	var sealed []byte
	var dbTmp, dbSum string
	defer func() {
		if dbTmp != "" {
			os.Remove(dbTmp)
		}
	}()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("restore: reading the backup: %w", err)
		}
		switch h.Name {
		case manifestName, keysName:
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
			if h.Name == keysName {
				sealed = b
			} else if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("restore: the manifest: %w", err)
			}
		case databaseName:
			if dbPath == "" {
				return nil, errors.New("restore: this backup holds a SQLite database: give --db sqlite:PATH")
			}
			if dbTmp, dbSum, err = copyOut(tr, dbPath); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("restore: the backup holds an unknown file %q", h.Name)
		}
	}
	if sealed == nil || m.Dialect == "" {
		return nil, errors.New("restore: not a pocdir backup (no manifest or no keys)")
	}
	if m.Dialect == string(db.SQLite) && (dbTmp == "" || dbSum != m.Database) {
		return nil, errors.New("restore: the database in the backup is missing or damaged (its SHA-256 differs from the manifest's)")
	}
	files, err := openKeys(sealed, passphrase)
	if err != nil {
		return nil, err
	}
	for name, path := range map[string]string{"log": keys.Log, "data": keys.Data, "openpgp": keys.OpenPGP} {
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("restore: %s exists: restore to a new place, or move it away first", path)
		}
		if files[name] == "" {
			return nil, fmt.Errorf("restore: the backup lacks the %s key", name)
		}
	}
	for name, path := range map[string]string{"log": keys.Log, "data": keys.Data, "openpgp": keys.OpenPGP} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o600); err != nil {
			return nil, fmt.Errorf("restore: writing the %s key: %w", name, err)
		}
	}
	if dbTmp != "" {
		if err := os.Link(dbTmp, dbPath); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	return &m, nil
}

// copyOut writes the database from the archive beside its destination,
// which must not exist, and returns the temporary file and its SHA-256.
func copyOut(r io.Reader, dbPath string) (string, string, error) {
	if _, err := os.Stat(dbPath); err == nil {
		return "", "", fmt.Errorf("restore: %s exists: restore to a new place, or move it away first", dbPath)
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dbPath), ".restore-*")
	if err != nil {
		return "", "", fmt.Errorf("restore: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return tmp.Name(), "", fmt.Errorf("restore: writing the database: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return tmp.Name(), "", err
	}
	if err := tmp.Close(); err != nil {
		return tmp.Name(), "", err
	}
	return tmp.Name(), hex.EncodeToString(h.Sum(nil)), nil
}
