package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

type auditWorld struct {
	sys   *testkit.System
	url   string
	fp    *testkit.User
	token string
	state string
}

func newAuditWorld(t *testing.T, sys *testkit.System) *auditWorld {
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	w := &auditWorld{sys: sys, url: srv.URL, fp: fp, token: sys.Token(t, fp, "write"), state: filepath.Join(t.TempDir(), "audit.json")}
	w.change(t, "National CERT")
	return w
}

func (w *auditWorld) change(t *testing.T, agency string) {
	t.Helper()
	in := testkit.ValidPoC()
	in.Agency = agency
	w.sys.AddPoC(t, w.fp.Ctx(), "FRA", in)
}

func (w *auditWorld) verify(t *testing.T) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := auditVerify([]string{"--server", w.url, "--token", w.token, "--state-file", w.state}, &out)
	return out.String(), err
}

func TestAuditVerify(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newAuditWorld(t, testkit.New(t, e))
		out, err := w.verify(t)
		if err != nil || !strings.Contains(out, "first run: trusting") || !strings.Contains(out, "commitments recomputed") {
			t.Fatalf("%s %v", out, err)
		}
		t.Run("a grown log is checked for consistency with the saved checkpoint", func(t *testing.T) {
			w.change(t, "Second agency")
			out, err := w.verify(t)
			if err != nil || strings.Contains(out, "first run") || !strings.Contains(out, "1 commitments recomputed") && !strings.Contains(out, "2 commitments recomputed") {
				t.Errorf("%s %v", out, err)
			}
		})
		t.Run("the State's communications are recomputed, and an altered one is detected", func(t *testing.T) {
			fpKEN := w.sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
			w.sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
			recomputed := func(out string) int {
				_, tail, _ := strings.Cut(out, "included; ")
				n, _ := strconv.Atoi(strings.Fields(tail + " x")[0])
				return n
			}
			none, err := w.verify(t)
			if err != nil {
				t.Fatal(err)
			}
			c, err := w.sys.Comms.Compose(w.fp.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
				Fields: map[string]string{"subject": "Scanning", "urgency": "high", "tlp": comms.TLPAmber, "description": "From 203.0.113.7.", "indicators": "203.0.113.7"}})
			if err != nil {
				t.Fatal(err)
			}
			// Escalated since: the commitment holds the level it was sent at.
			if _, err := w.sys.Comms.Escalate(w.fp.Ctx(), c.ID); err != nil {
				t.Fatal(err)
			}
			before, err := w.verify(t)
			if err != nil || recomputed(before) != recomputed(none)+1 {
				t.Fatalf("with a communication: %s %v; without: %s", before, err, none)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'low' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			_, err = w.verify(t)
			if err == nil || !strings.Contains(err.Error(), "MISMATCH: communication "+c.Ref) {
				t.Errorf("after the change: %v", err)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'high' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			if after, err := w.verify(t); err != nil || after != before {
				t.Errorf("restored: %s %v (before: %s)", after, err, before)
			}
		})
		t.Run("an altered change of the State is detected", func(t *testing.T) {
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE entry_changes SET diff = '[]' WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			_, err := w.verify(t)
			if err == nil || !strings.Contains(err.Error(), "MISMATCH") || !strings.Contains(err.Error(), "commitment") {
				t.Errorf("got %v", err)
			}
		})
	})
}

func TestAuditVerifyDetectsAFork(t *testing.T) {
	a := newAuditWorld(t, testkit.New(t, testkit.Engines()[0]))
	if _, err := a.verify(t); err != nil {
		t.Fatal(err)
	}
	// A second server with the same key whose history differs at the same
	// size: what a log that rewrote its past would present.
	bsys := testkit.New(t, testkit.Engines()[0], testkit.SharingLogKey(a.sys))
	b := newAuditWorld(t, bsys)
	sizeA, _ := a.sys.Audit.Latest(context.Background())
	sizeB, _ := b.sys.Audit.Latest(context.Background())
	if sizeA.Size != sizeB.Size || sizeA.Root == sizeB.Root {
		t.Fatalf("the two logs should have one size and two roots: %d %d", sizeA.Size, sizeB.Size)
	}
	b.state = a.state
	_, err := b.verify(t)
	if err == nil || !strings.Contains(err.Error(), "FORK") {
		t.Errorf("got %v", err)
	}
	t.Run("a grown fork fails the consistency proof", func(t *testing.T) {
		b.change(t, "More")
		_, err := b.verify(t)
		if err == nil || !strings.Contains(err.Error(), "FORK") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a server with another key is refused", func(t *testing.T) {
		c := newAuditWorld(t, testkit.New(t, testkit.Engines()[0]))
		c.state = a.state
		_, err := c.verify(t)
		if err == nil || !strings.Contains(err.Error(), "log key") {
			t.Errorf("got %v", err)
		}
	})
}

func TestAuditReceiptCheckAndCosign(t *testing.T) {
	w := newAuditWorld(t, testkit.New(t, testkit.Engines()[0]))
	h, _ := w.sys.Directory.History(w.fp.Ctx(), "FRA")
	req, _ := http.NewRequest("GET", w.url+"/api/v1/log/receipts/"+strconv.FormatInt(*h[0].LogIndex, 10), nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(t.TempDir(), "receipt.json")
	os.WriteFile(file, body, 0o600)
	t.Run("a downloaded receipt verifies with the public key", func(t *testing.T) {
		var out bytes.Buffer
		if err := auditVerifyReceipt([]string{file, "--key", w.sys.Audit.VerifierKey}, &out); err != nil || !strings.Contains(out.String(), "receipt verified") {
			t.Errorf("%s %v", out.String(), err)
		}
	})
	t.Run("an altered receipt does not", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(bad, bytes.Replace(body, []byte(`"index":`), []byte(`"index":1`), 1), 0o600)
		var out bytes.Buffer
		if err := auditVerifyReceipt([]string{bad, "--key", w.sys.Audit.VerifierKey}, &out); err == nil {
			t.Error("verified")
		}
	})
	t.Run("a witness cosigns the checkpoint after verifying it", func(t *testing.T) {
		var out bytes.Buffer
		wk := filepath.Join(t.TempDir(), "witness.key")
		err := auditCosign([]string{"--server", w.url, "--token", w.token, "--state-file", filepath.Join(t.TempDir(), "s.json"), "--witness-key", wk}, &out)
		if err != nil || !strings.Contains(out.String(), "cosigned") {
			t.Fatalf("%s %v", out.String(), err)
		}
		cp, _ := w.sys.Audit.Latest(context.Background())
		if len(cp.Cosignatures) != 1 {
			t.Errorf("cosignatures %+v", cp.Cosignatures)
		}
	})
}

func TestAuditCheckCommand(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "p.db")
	ctx := context.Background()
	sys, err := system.Open(ctx, system.Config{DB: dbURL, LogOrigin: "pocdir.test/log"})
	if err != nil {
		t.Fatal(err)
	}
	fp := app.WithActor(ctx, &app.Actor{Email: "fp@fra.example", Role: app.RoleFocalPoint, State: "FRA"})
	sec := app.WithActor(ctx, &app.Actor{Email: "sec@un.example", Role: app.RoleSecretariat})
	validate := func(n *directory.Nomination, err error) {
		t.Helper()
		if err == nil {
			_, err = sys.Directory.ValidateNomination(sec, n.ID, directory.Decision{Version: n.Version, Reference: "NV 1/2026"})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	validate(sys.Directory.ProposePoC(fp, "FRA", testkit.ValidPoC()))
	validate(sys.Directory.ProposeEntryUpdate(fp, "FRA", directory.EntryInput{InitiateVia: "x", Version: 1}))
	fpKEN := app.WithActor(ctx, &app.Actor{Email: "fp@ken.example", Role: app.RoleFocalPoint, State: "KEN"})
	validate(sys.Directory.ProposePoC(fpKEN, "KEN", testkit.ValidPoC()))
	sender, err := sys.Accounts.CreateUser(app.WithActor(ctx, app.System), account.InviteInput{Email: "off@fra.example", Name: "Officer", Role: app.RoleOfficer, State: "FRA"}, testkit.Password)
	if err != nil {
		t.Fatal(err)
	}
	off := app.WithActor(ctx, &app.Actor{UserID: sender.ID, Email: sender.Email, Role: app.RoleOfficer, State: "FRA"})
	c, err := sys.Comms.Compose(off, comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Scanning", "urgency": "high", "tlp": comms.TLPAmber, "description": "From 203.0.113.7."}})
	if err != nil {
		t.Fatal(err)
	}
	sys.Audit.Latest(ctx)
	out, err := withStdin(t, "", func() error { return auditCheck([]string{"--db", dbURL}) })
	if err != nil || !strings.Contains(out, "the log verifies") || !strings.Contains(out, "4 content commitments checked") {
		t.Fatalf("%s %v", out, err)
	}
	keyOut, err := withStdin(t, "", func() error { return auditKey([]string{"--db", dbURL}) })
	if err != nil || strings.TrimSpace(keyOut) != sys.Audit.VerifierKey {
		t.Errorf("audit key printed %q, want %q (%v)", keyOut, sys.Audit.VerifierKey, err)
	}
	sys.DB.ExecContext(ctx, `UPDATE entry_changes SET effective_date = '2020-01-01'`)
	sys.DB.ExecContext(ctx, `UPDATE comms SET urgency = 'low'`)
	sys.DB.Close()
	out, err = withStdin(t, "", func() error { return auditCheck([]string{"--db", dbURL}) })
	if err == nil || !strings.Contains(out, "PROBLEM: directory change") || !strings.Contains(out, "PROBLEM: communication "+c.Ref) {
		t.Errorf("%s %v", out, err)
	}
	// Without the data keys, the communications are said not to be checked.
	if err := os.Rename(filepath.Join(dir, "pocdir-data.key"), filepath.Join(dir, "elsewhere.key")); err != nil {
		t.Fatal(err)
	}
	out, _ = withStdin(t, "", func() error { return auditCheck([]string{"--db", dbURL}) })
	if !strings.Contains(out, "NOTE: no data key") || strings.Contains(out, "PROBLEM: communication") {
		t.Errorf("without the data key: %s", out)
	}
	// A data key named and missing is an error, not a note.
	out, err = withStdin(t, "", func() error {
		return auditCheck([]string{"--db", dbURL, "--data-key", filepath.Join(dir, "pocdir-data.key")})
	})
	if err == nil || !strings.Contains(err.Error(), "--data-key") {
		t.Errorf("a missing --data-key: %s %v", out, err)
	}
}
