package offline

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/auditlog"
)

// The archive is a tar file whose files sit in one folder, Folder, so that
// unpacking it makes one folder. Beside the content it holds the log's
// signed checkpoint of the moment (CheckpointName) and the signed manifest
// (ManifestName).
const (
	Folder         = "pocdir-offline-copy"
	ManifestName   = "MANIFEST"
	CheckpointName = "checkpoint.txt"
)

// MaxFile is the largest file that can be an offline copy, encrypted or
// not: Verify refuses a larger archive before reading it.
const MaxFile = maxArchive

// Limits of an archive that Verify reads.
const (
	maxArchive = 256 << 20
	maxEntries = maxFiles + 1
)

// writeArchive writes the files and the signed manifest as a tar archive.
// The files are written in the order of their names, all dated at the
// copy's moment, so that the same content gives the same archive.
func writeArchive(files map[string][]byte, manifest []byte, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	put := func(name string, body []byte) error {
		h := &tar.Header{Name: Folder + "/" + name, Mode: 0o644, Size: int64(len(body)), ModTime: at.UTC().Truncate(time.Second), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	for _, n := range names {
		if err := put(n, files[n]); err != nil {
			return nil, fmt.Errorf("offline: writing %s: %w", n, err)
		}
	}
	if err := put(ManifestName, manifest); err != nil {
		return nil, fmt.Errorf("offline: writing the manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("offline: closing the archive: %w", err)
	}
	return b.Bytes(), nil
}

// ErrEncrypted says that the file given to Verify is still encrypted.
var ErrEncrypted = errors.New("this file is encrypted: decrypt it first (gpg --decrypt FILE > copy.tar), then verify the .tar; or give --passphrase-file or --private-key")

// Verified is what Verify found in a genuine copy.
type Verified struct {
	Manifest *Manifest
	// Checkpoint is the log's signed checkpoint of the copy's moment, as
	// the archive holds it.
	Checkpoint string
	// Files are the files of the archive but the manifest, by name.
	Files map[string][]byte
}

// Verify checks an offline copy (the decrypted .tar) against the log's
// public key (name+hash+key): the manifest's signature, each file's
// SHA-256, that the archive holds no file the manifest does not list, and
// that the checkpoint in the archive is signed by the same key and is the
// one the manifest names.
func Verify(archive []byte, vkey string) (*Verified, error) {
	if len(archive) > 0 && (archive[0]&0x80 != 0 || bytes.HasPrefix(archive, []byte("-----BEGIN PGP"))) {
		return nil, ErrEncrypted
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("the log's public key: %w", err)
	}
	files, err := readArchive(archive)
	if err != nil {
		return nil, err
	}
	signed, ok := files[ManifestName]
	if !ok {
		return nil, errors.New("the archive holds no " + ManifestName)
	}
	delete(files, ManifestName)
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("the manifest's signature does not verify with %s: %w", vkey, err)
	}
	m, err := ParseManifest(n.Text)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
		body, ok := files[f.Name]
		if !ok {
			return nil, fmt.Errorf("%s is listed in the manifest but missing from the archive", f.Name)
		}
		if sha256.Sum256(body) != f.SHA256 {
			return nil, fmt.Errorf("%s was changed: its SHA-256 is not the signed one", f.Name)
		}
	}
	for name := range files {
		if !listed[name] {
			return nil, fmt.Errorf("%s is in the archive but not in the signed manifest", name)
		}
	}
	cp, ok := files[CheckpointName]
	if !ok {
		return nil, errors.New("the archive holds no " + CheckpointName)
	}
	cn, err := note.Open(cp, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("the checkpoint's signature does not verify: %w", err)
	}
	if _, _, _, err := auditlog.ParseCheckpoint(cn.Text); err != nil {
		return nil, err
	}
	if cn.Text != m.Origin+"\n"+strconv.FormatInt(m.Size, 10)+"\n"+m.Root+"\n" {
		return nil, errors.New("the checkpoint in the archive is not the one the manifest names")
	}
	return &Verified{Manifest: m, Checkpoint: string(cp), Files: files}, nil
}

// readArchive reads the regular files of the archive's folder, refusing
// anything else: other folders, links, repeated names, too many or too large
// files.
func readArchive(archive []byte) (map[string][]byte, error) {
	if len(archive) > maxArchive {
		return nil, errors.New("the archive is too large for an offline copy")
	}
	tr := tar.NewReader(bytes.NewReader(archive))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable tar archive: %w", err)
		}
		if len(files) == maxEntries {
			return nil, errors.New("the archive holds too many files")
		}
		dir, name := path.Split(h.Name)
		if h.Typeflag == tar.TypeDir && strings.TrimSuffix(h.Name, "/") == Folder {
			continue
		}
		if h.Typeflag != tar.TypeReg || dir != Folder+"/" || name == "" {
			return nil, fmt.Errorf("unexpected entry %q in the archive", h.Name)
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("%s appears twice in the archive", name)
		}
		body, err := io.ReadAll(io.LimitReader(tr, maxArchive))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.Name, err)
		}
		files[name] = body
	}
	if len(files) == 0 {
		return nil, errors.New("not an offline copy: the archive is empty")
	}
	return files, nil
}
