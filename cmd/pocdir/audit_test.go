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

// TestAuditVerifyCommands drives verify, verify-receipt and cosign through
// their flags and reads what they print; the verification itself is tested
// in internal/auditlog/verify.
func TestAuditVerifyCommands(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	token := sys.Token(t, fp, "write")
	sys.AddPoC(t, fp.Ctx(), "FRA", testkit.ValidPoC())
	dir := t.TempDir()
	state := filepath.Join(dir, "audit.json")
	verifyCmd := func() (string, error) {
		var out bytes.Buffer
		err := auditVerify([]string{"--server", srv.URL, "--token", token, "--state-file", state}, &out)
		return out.String(), err
	}

	t.Run("verify trusts the key on first use, and keeps it in the state file", func(t *testing.T) {
		out, err := verifyCmd()
		if err != nil || !strings.HasPrefix(out, "first run: trusting the server's log key "+sys.Audit.VerifierKey) ||
			!strings.Contains(out, "\nverified: tree of ") || !strings.HasSuffix(out, " commitments recomputed\n") {
			t.Fatalf("%s %v", out, err)
		}
		b, err := os.ReadFile(state)
		if err != nil || !strings.Contains(string(b), `"key": "`+sys.Audit.VerifierKey+`"`) {
			t.Errorf("state file: %s %v", b, err)
		}
		if out, err := verifyCmd(); err != nil || !strings.HasPrefix(out, "verified: ") {
			t.Errorf("second run: %s %v", out, err)
		}
	})
	t.Run("verify fails on an altered change", func(t *testing.T) {
		ctx := context.Background()
		var diff string
		if err := sys.DB.QueryRowContext(ctx, `SELECT diff FROM entry_changes WHERE id = 1`).Scan(&diff); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.DB.ExecContext(ctx, `UPDATE entry_changes SET diff = '[]' WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		out, err := verifyCmd()
		if err == nil || !strings.HasPrefix(err.Error(), "MISMATCH: change 1 of FRA") || out != "" {
			t.Errorf("%q %v", out, err)
		}
		if _, err := sys.DB.ExecContext(ctx, `UPDATE entry_changes SET diff = $1 WHERE id = 1`, diff); err != nil {
			t.Fatal(err)
		}
		if out, err := verifyCmd(); err != nil {
			t.Errorf("restored: %s %v", out, err)
		}
	})

	h, _ := sys.Directory.History(fp.Ctx(), "FRA")
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/log/receipts/"+strconv.FormatInt(*h[0].LogIndex, 10), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(dir, "receipt.json")
	os.WriteFile(file, body, 0o600)
	t.Run("a downloaded receipt verifies with the public key, the file before or after the flags", func(t *testing.T) {
		for _, args := range [][]string{{file, "--key", sys.Audit.VerifierKey}, {"--key", sys.Audit.VerifierKey, file}} {
			var out bytes.Buffer
			if err := auditVerifyReceipt(args, &out); err != nil || !strings.HasPrefix(out.String(), "receipt verified: entry "+strconv.FormatInt(*h[0].LogIndex, 10)+" ") {
				t.Errorf("%v: %s %v", args, out.String(), err)
			}
		}
	})
	t.Run("an altered receipt does not", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, bytes.Replace(body, []byte(`"index":`), []byte(`"index":1`), 1), 0o600)
		var out bytes.Buffer
		if err := auditVerifyReceipt([]string{bad, "--key", sys.Audit.VerifierKey}, &out); err == nil || !strings.HasPrefix(err.Error(), "MISMATCH: receipt: ") {
			t.Errorf("%s %v", out.String(), err)
		}
	})
	t.Run("a witness cosigns the checkpoint after verifying it", func(t *testing.T) {
		var out bytes.Buffer
		wk := filepath.Join(dir, "witness.key")
		err := auditCosign([]string{"--server", srv.URL, "--token", token, "--state-file", filepath.Join(dir, "s.json"), "--witness-key", wk}, &out)
		if err != nil || !strings.Contains(out.String(), "\ncosigned the checkpoint of ") {
			t.Fatalf("%s %v", out.String(), err)
		}
		cp, _ := sys.Audit.Latest(context.Background())
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
