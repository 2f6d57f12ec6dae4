// Package offline makes the offline copy of the directory for crisis time:
// one archive that lets a PoC reach the other States when pocdir itself is
// unreachable. It holds the validated directory as of a moment as a
// self-contained HTML page (in the holder's language, no script, for
// printing), the vCards and the JSON, all made by package export; the log's
// signed checkpoint of that moment; and a manifest of the files' SHA-256,
// signed by the log's key as a signed note (golang.org/x/mod/sumdb/note),
// the key and format with which States already check checkpoints. The
// archive is then encrypted, with OpenPGP, to the holder's key or under a
// passphrase, so that GnuPG alone opens it. Verify checks a copy. A
// State's PoCs may also receive fresh copies by e-mail (mail.go): the
// package owns the tables of those mailings, offline_mailings and
// offline_mailed.
package offline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/db"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/i18n"
	"github.com/pocdir/pocdir/internal/notify"
)

// Service makes offline copies, and sends them by e-mail. The directory
// is read through Export, so a copy holds exactly what its holder may see.
type Service struct {
	Export *export.Service
	// Accounts gives the key a user set on their account.
	Accounts *account.Service
	Log      *auditlog.Log
	Catalog  *i18n.Catalog
	Now      app.Clock
	// DB holds the copies by e-mail, and Mail writes them.
	DB   *db.DB
	Mail *notify.Writer
}

// Archive is an offline copy before its encryption.
type Archive struct {
	Manifest *Manifest
	Tar      []byte
}

// CanCopy reports whether the actor may take an offline copy: members,
// as Archive and Copy decide (app.RequireActor); never an observer, which
// reads its granted entries in the portal only.
func CanCopy(a *app.Actor) bool { return a.IsMember() }

// Archive makes the actor's offline copy of the directory as it is now,
// and records it in the log as an export ("offline-copy.tar"). The log's
// checkpoint is read after that record, so the copy's own export is in the
// tree it names.
func (s *Service) Archive(ctx context.Context) (*Archive, error) {
	return s.archive(ctx, s.exported("offline-copy.tar"))
}

// exported records in the log the export named logged.
func (s *Service) exported(logged string) func(context.Context) error {
	return func(ctx context.Context) error { return s.Export.Dir.Exported(ctx, logged) }
}

// archive makes the copy; record, when set, records it in the log before
// the checkpoint is read (a copy sent by e-mail is recorded with its
// sending instead).
func (s *Service) archive(ctx context.Context, record func(context.Context) error) (*Archive, error) {
	a, err := app.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := s.Export.Entries(ctx, directory.Filter{})
	if err != nil {
		return nil, err
	}
	jsonBody, err := s.Export.Encode(ctx, "directory", entries, export.JSONFormat)
	if err != nil {
		return nil, err
	}
	vcards, err := s.Export.Encode(ctx, "directory", entries, export.VCardFormat)
	if err != nil {
		return nil, err
	}
	if record != nil {
		if err := record(ctx); err != nil {
			return nil, err
		}
	}
	cp, err := s.Log.Latest(ctx)
	if err != nil {
		return nil, err
	}
	lang := "en"
	if a.Language != "" && s.Catalog.Has(a.Language) {
		lang = a.Language
	}
	now := s.Now().UTC().Truncate(time.Second)
	page, err := s.page(lang, now, cp, entries)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"index.html":            page,
		"pocdir-directory.json": jsonBody,
		"pocdir-directory.vcf":  vcards,
		CheckpointName:          []byte(cp.Note),
	}
	origin, size, root, err := auditlog.ParseCheckpoint(auditlog.CheckpointBodyOf(cp.Note))
	if err != nil {
		return nil, err
	}
	holder := a.Email
	if !word(holder) {
		holder = "-" // an actor without an address, such as pocdir itself
	}
	m := &Manifest{Created: now, Holder: holder, Language: lang, Origin: origin, Size: size, Root: base64.StdEncoding.EncodeToString(root[:])}
	for _, name := range []string{CheckpointName, "pocdir-directory.json", "pocdir-directory.vcf", "index.html"} {
		m.Files = append(m.Files, FileSum{Name: name, SHA256: sha256.Sum256(files[name])})
	}
	signed, err := note.Sign(&note.Note{Text: m.Text()}, s.Log.Signer)
	if err != nil {
		return nil, fmt.Errorf("offline: signing the manifest: %w", err)
	}
	tar, err := writeArchive(files, signed, now)
	if err != nil {
		return nil, err
	}
	return &Archive{Manifest: m, Tar: tar}, nil
}
