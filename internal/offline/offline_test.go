package offline_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/offline"
	"github.com/pocdir/pocdir/internal/testkit"
)

// arabicAgency is a PoC's agency written in Arabic, which the Arabic page
// must show as it is, right to left.
const arabicAgency = "المركز الوطني للاستجابة لطوارئ الحاسب"

// setup makes a system with two validated PoCs, one of them Arabic, and an
// officer reading in Arabic.
func setup(t *testing.T, e testkit.Engine) (*testkit.System, context.Context) {
	t.Helper()
	sys := testkit.New(t, e)
	fpEG := sys.User(t, "fp@egy.example", app.RoleFocalPoint, "EGY")
	fpCH := sys.User(t, "fp@che.example", app.RoleFocalPoint, "CHE")
	off := sys.User(t, "off@egy.example", app.RoleOfficer, "EGY")
	in := testkit.ValidPoC()
	in.Agency, in.Languages, in.TimeZone = arabicAgency, []string{"ar", "en"}, "Africa/Cairo"
	sys.AddPoC(t, fpEG.Ctx(), "EGY", in)
	in = testkit.ValidPoC()
	in.Level, in.Agency = directory.LevelPolicy, "Federal Office for Cyber Security"
	sys.AddPoC(t, fpCH.Ctx(), "CHE", in)
	a := off.Actor()
	a.Language = "ar"
	return sys, app.WithActor(context.Background(), a)
}

// rewrite copies a tar archive, letting edit change each file's body (nil
// drops it) and add more.
func rewrite(t *testing.T, archive []byte, edit func(name string, body []byte) []byte, add map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	put := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if body = edit(strings.TrimPrefix(h.Name, offline.Folder+"/"), body); body != nil {
			put(h, body)
		}
	}
	for name, body := range add {
		put(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg}, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func keep(_ string, body []byte) []byte { return body }

func TestArchive(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys, ctx := setup(t, e)
		a, err := sys.Offline.Archive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vkey := sys.Keys.VerifierKey

		t.Run("a genuine copy verifies and says its date and checkpoint", func(t *testing.T) {
			v, err := offline.Verify(a.Tar, vkey)
			if err != nil {
				t.Fatal(err)
			}
			m := v.Manifest
			if !m.Created.Equal(sys.Clock.Now().UTC().Truncate(1e9)) || m.Holder != "off@egy.example" || m.Language != "ar" || m.Origin != "pocdir.test/log" {
				t.Errorf("manifest %+v", m)
			}
			cp, err := sys.Audit.CheckpointAt(ctx, m.Size)
			if err != nil || cp.Note != v.Checkpoint {
				t.Errorf("the checkpoint of size %d is not the log's: %v", m.Size, err)
			}
		})
		t.Run("the copy is recorded in the log as an export, inside the tree it names", func(t *testing.T) {
			entries, err := sys.Audit.Entries(app.WithActor(context.Background(), app.System), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var found int64 = -1
			for _, en := range entries {
				if en.Type == "directory.exported" && en.Object == "export:offline-copy.tar" && en.ActorEmail == "off@egy.example" {
					found = en.Index
				}
			}
			if found < 0 || found >= a.Manifest.Size {
				t.Errorf("export entry %d, checkpoint size %d", found, a.Manifest.Size)
			}
		})
		v, err := offline.Verify(a.Tar, vkey)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("the page is in Arabic, right to left, without script", func(t *testing.T) {
			page := string(v.Files["index.html"])
			for _, want := range []string{`<html lang="ar" dir="rtl">`, arabicAgency, "مصر", "سويسرا", "Federal Office for Cyber Security"} {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			if strings.Contains(strings.ToLower(page), "<script") {
				t.Error("the page has a script")
			}
		})
		t.Run("the JSON and the vCards hold both States' PoCs", func(t *testing.T) {
			var got struct {
				States []directory.Entry `json:"states"`
			}
			if err := json.Unmarshal(v.Files["pocdir-directory.json"], &got); err != nil {
				t.Fatal(err)
			}
			codes := map[string]int{}
			for _, e := range got.States {
				codes[e.Code] = len(e.PoCs)
			}
			if codes["EGY"] != 1 || codes["CHE"] != 1 {
				t.Errorf("PoCs by State in the JSON: %v", codes)
			}
			if n := strings.Count(string(v.Files["pocdir-directory.vcf"]), "BEGIN:VCARD"); n != 2 {
				t.Errorf("%d vCards", n)
			}
		})

		// Another key with the log's very name, as a forger would make.
		otherSKey, otherVKey, err := note.GenerateKey(rand.Reader, "pocdir.test/log")
		if err != nil {
			t.Fatal(err)
		}
		otherSigner, err := note.NewSigner(otherSKey)
		if err != nil {
			t.Fatal(err)
		}
		resigned := rewrite(t, a.Tar, func(name string, body []byte) []byte {
			if name != offline.ManifestName {
				return body
			}
			n, err := note.Open(body, note.VerifierList(sys.Keys.Verifier))
			if err != nil {
				t.Fatal(err)
			}
			b, err := note.Sign(&note.Note{Text: strings.Replace(n.Text, "created ", "created 2", 1)}, otherSigner)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, nil)

		// A manifest that pocdir's key did sign, beside another genuine
		// checkpoint (a later copy's): the two must name the same tree.
		later, err := sys.Offline.Archive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, err := sys.Audit.CheckpointAt(ctx, later.Manifest.Size)
		if err != nil {
			t.Fatal(err)
		}
		oldSum := sha256.Sum256([]byte(other.Note))
		var cpSum string
		swapped := rewrite(t, a.Tar, func(name string, body []byte) []byte {
			switch name {
			case offline.CheckpointName:
				s := sha256.Sum256(body)
				cpSum = hex.EncodeToString(s[:])
				return []byte(other.Note)
			case offline.ManifestName:
				n, err := note.Open(body, note.VerifierList(sys.Keys.Verifier))
				if err != nil {
					t.Fatal(err)
				}
				b, err := note.Sign(&note.Note{Text: strings.Replace(n.Text, cpSum, hex.EncodeToString(oldSum[:]), 1)}, sys.Keys.Signer)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			return body
		}, nil)

		tests := []struct {
			name    string
			archive []byte
			key     string
			want    string
		}{
			{"another genuine checkpoint than the manifest names fails", swapped, vkey, "not the one the manifest names"},
			{"a changed page fails", rewrite(t, a.Tar, func(name string, body []byte) []byte {
				if name == "index.html" {
					return bytes.Replace(body, []byte(arabicAgency), []byte("Forged agency"), 1)
				}
				return body
			}, nil), vkey, "index.html was changed"},
			{"a changed vCard fails", rewrite(t, a.Tar, func(name string, body []byte) []byte {
				if name == "pocdir-directory.vcf" {
					return bytes.Replace(body, []byte("cert@example.org"), []byte("evil@example.org"), 1)
				}
				return body
			}, nil), vkey, "directory.vcf was changed"},
			{"a removed file fails", rewrite(t, a.Tar, func(name string, body []byte) []byte {
				if name == "pocdir-directory.json" {
					return nil
				}
				return body
			}, nil), vkey, "missing"},
			{"an added file fails", rewrite(t, a.Tar, keep, map[string][]byte{offline.Folder + "/extra.html": []byte("<p>call this number</p>")}), vkey, "not in the signed manifest"},
			{"a file outside the folder fails", rewrite(t, a.Tar, keep, map[string][]byte{"../evil": []byte("x")}), vkey, "unexpected entry"},
			{"a manifest signed by another key fails", resigned, vkey, "does not verify"},
			{"a manifest without its signature fails", rewrite(t, a.Tar, func(name string, body []byte) []byte {
				if name == offline.ManifestName {
					text, _, _ := bytes.Cut(body, []byte("\n\n"))
					return append(text, '\n')
				}
				return body
			}, nil), vkey, "does not verify"},
			{"a genuine copy fails against another key of the same name", a.Tar, otherVKey, "does not verify"},
			{"a truncated archive fails", a.Tar[:len(a.Tar)/2], vkey, ""},
			{"an encrypted file says to decrypt it first", []byte("-----BEGIN PGP MESSAGE-----\n"), vkey, "decrypt it first"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := offline.Verify(tt.archive, tt.key)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want an error with %q", err, tt.want)
				}
			})
		}
		t.Run("no one unauthenticated gets a copy", func(t *testing.T) {
			if _, err := sys.Offline.Archive(context.Background()); app.ErrorCode(err) != app.Unauthorized {
				t.Errorf("got %v", err)
			}
		})
		t.Run("an encrypted copy is not taken for an archive", func(t *testing.T) {
			f, err := sys.Offline.Copy(ctx, offline.Recipient{Passphrase: []byte("correct horse battery staple")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := offline.Verify(f.Body, vkey); !errors.Is(err, offline.ErrEncrypted) {
				t.Errorf("got %v", err)
			}
		})
		t.Run("a short passphrase is refused before anything is logged", func(t *testing.T) {
			before, _ := sys.Audit.Latest(ctx)
			_, err := sys.Offline.Copy(ctx, offline.Recipient{Passphrase: []byte("short")})
			if app.ErrorCode(err) != app.Invalid {
				t.Errorf("got %v", err)
			}
			after, _ := sys.Audit.Latest(ctx)
			if after.Size != before.Size {
				t.Errorf("the log grew from %d to %d", before.Size, after.Size)
			}
		})
	})
}
