package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/auditlog"
	"github.com/pocdir/pocdir/internal/auditlog/verify"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// world is a real system served over HTTP, a focal point of FRA with a
// token, and the client a national system of FRA would use.
type world struct {
	sys    *testkit.System
	fp     *testkit.User
	client *verify.Client
	notes  []string
}

func newWorld(t *testing.T, sys *testkit.System) *world {
	srv := sys.Serve(t)
	fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
	w := &world{sys: sys, fp: fp}
	w.client = verify.NewClient(srv.URL, sys.Token(t, fp, "write"), srv.Client())
	w.client.Note = func(msg string) { w.notes = append(w.notes, msg) }
	w.change(t, "National CERT")
	return w
}

func (w *world) change(t *testing.T, agency string) {
	t.Helper()
	in := testkit.ValidPoC()
	in.Agency = agency
	w.sys.AddPoC(t, w.fp.Ctx(), "FRA", in)
}

// verify runs Verify from st, and checks that st moved to the verified
// checkpoint on success and stayed as it was on failure.
func (w *world) verify(t *testing.T, st *verify.State) (*verify.Result, error) {
	t.Helper()
	w.notes = nil
	before := *st
	res, err := w.client.Verify(context.Background(), st, "")
	switch {
	case err != nil && *st != before:
		t.Errorf("a failed verification changed the state: %+v, was %+v", *st, before)
	case err == nil && (st.Size != res.Size || st.Root != res.Root || st.Checkpoint != res.Checkpoint || st.Key != res.Key):
		t.Errorf("the state %+v is not the verified checkpoint %+v", *st, res)
	}
	return res, err
}

func TestVerify(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		w := newWorld(t, testkit.New(t, e))
		st := &verify.State{}
		res, err := w.verify(t, st)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a first run trusts the server's key, and says so", func(t *testing.T) {
			if st.Key != w.sys.Audit.VerifierKey || len(w.notes) != 1 || !strings.Contains(w.notes[0], "first run: trusting the server's log key "+w.sys.Audit.VerifierKey) {
				t.Errorf("key %q, notes %q", st.Key, w.notes)
			}
			if res.Entries == 0 || res.Commitments == 0 {
				t.Errorf("%d entries, %d commitments", res.Entries, res.Commitments)
			}
		})
		t.Run("a grown log is checked for consistency with the saved checkpoint", func(t *testing.T) {
			size := st.Size
			w.change(t, "Second agency")
			res, err := w.verify(t, st)
			if err != nil || len(w.notes) != 0 || res.Size <= size || res.Commitments != 1 && res.Commitments != 2 {
				t.Errorf("%+v %v, notes %q", res, err, w.notes)
			}
		})
		t.Run("the State's communications are recomputed, and an altered one is detected", func(t *testing.T) {
			fpKEN := w.sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
			w.sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
			none, err := w.verify(t, st)
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
			before, err := w.verify(t, st)
			if err != nil || before.Commitments != none.Commitments+1 {
				t.Fatalf("with a communication: %+v %v; without: %+v", before, err, none)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'low' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			_, err = w.verify(t, st)
			if !errors.Is(err, verify.ErrMismatch) || !strings.HasPrefix(err.Error(), "MISMATCH: communication "+c.Ref+" does not match its commitment") {
				t.Errorf("after the change: %v", err)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'high' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			if after, err := w.verify(t, st); err != nil || *after != *before {
				t.Errorf("restored: %+v %v (before: %+v)", after, err, before)
			}
			// More than a page of the API later, the communication is
			// still checked.
			for i := range app.MaxPageSize + 5 {
				if _, err := w.sys.Comms.Compose(w.fp.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
					Fields: map[string]string{"subject": fmt.Sprintf("Scanning %d", i), "urgency": "high", "tlp": comms.TLPAmber, "description": "From 203.0.113.8."}}); err != nil {
					t.Fatal(err)
				}
			}
			many, err := w.verify(t, st)
			if err != nil || many.Commitments != before.Commitments+app.MaxPageSize+5 {
				t.Fatalf("with %d more: %+v %v", app.MaxPageSize+5, many, err)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'low' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err = w.verify(t, st); !errors.Is(err, verify.ErrMismatch) || !strings.Contains(err.Error(), c.Ref) {
				t.Errorf("the oldest altered, past the first page: %v", err)
			}
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE comms SET urgency = 'high' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("an altered change of the State is detected", func(t *testing.T) {
			if _, err := w.sys.DB.ExecContext(context.Background(), `UPDATE entry_changes SET diff = '[]' WHERE id = 1`); err != nil {
				t.Fatal(err)
			}
			_, err := w.verify(t, st)
			if !errors.Is(err, verify.ErrMismatch) || !strings.HasPrefix(err.Error(), "MISMATCH: change 1 of FRA does not match its commitment") {
				t.Errorf("got %v", err)
			}
		})
	})
}

func TestVerifyDetectsAFork(t *testing.T) {
	a := newWorld(t, testkit.New(t, testkit.Engines()[0]))
	st := &verify.State{}
	if _, err := a.verify(t, st); err != nil {
		t.Fatal(err)
	}
	// A second server with the same key whose history differs at the same
	// size: what a log that rewrote its past would present.
	b := newWorld(t, testkit.New(t, testkit.Engines()[0], testkit.SharingLogKey(a.sys)))
	cpA, _ := a.sys.Audit.Latest(context.Background())
	cpB, _ := b.sys.Audit.Latest(context.Background())
	if cpA.Size != cpB.Size || cpA.Root == cpB.Root {
		t.Fatalf("the two logs should have one size and two roots: %d %d", cpA.Size, cpB.Size)
	}
	t.Run("two trees of one size are a fork", func(t *testing.T) {
		_, err := b.verify(t, st)
		if !errors.Is(err, verify.ErrFork) || !strings.HasPrefix(err.Error(), "FORK: the server signed two different trees") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a grown fork fails the consistency proof", func(t *testing.T) {
		b.change(t, "More")
		_, err := b.verify(t, st)
		if !errors.Is(err, verify.ErrFork) || !strings.Contains(err.Error(), "does not extend the one of size") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a shrunken log is a rollback", func(t *testing.T) {
		a.change(t, "More")
		a.change(t, "Even more")
		grown := *st
		if _, err := a.verify(t, &grown); err != nil {
			t.Fatal(err)
		}
		_, err := b.verify(t, &grown)
		if !errors.Is(err, verify.ErrMismatch) || !strings.Contains(err.Error(), "the log shrank") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a server with another key is refused", func(t *testing.T) {
		c := newWorld(t, testkit.New(t, testkit.Engines()[0]))
		_, err := c.verify(t, st)
		if !errors.Is(err, verify.ErrMismatch) || !strings.Contains(err.Error(), "log key") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a trusted key given overrides the one the state holds", func(t *testing.T) {
		c := newWorld(t, testkit.New(t, testkit.Engines()[0]))
		st := &verify.State{}
		_, err := c.client.Verify(context.Background(), st, a.sys.Audit.VerifierKey)
		if !errors.Is(err, verify.ErrMismatch) || len(c.notes) != 0 || *st != (verify.State{}) {
			t.Errorf("got %v, notes %q, state %+v", err, c.notes, *st)
		}
	})
}

func TestReceiptAndCosign(t *testing.T) {
	w := newWorld(t, testkit.New(t, testkit.Engines()[0]))
	ctx := context.Background()
	h, _ := w.sys.Directory.History(w.fp.Ctx(), "FRA")
	body, err := w.client.Receipt(ctx, *h[0].LogIndex)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a downloaded receipt verifies with the public key", func(t *testing.T) {
		r, err := auditlog.VerifyReceipt(body, w.sys.Audit.VerifierKey)
		if err != nil || r.Index != *h[0].LogIndex {
			t.Errorf("%+v %v", r, err)
		}
	})
	t.Run("an altered receipt does not", func(t *testing.T) {
		bad := bytes.Replace(body, []byte(`"index":`), []byte(`"index":1`), 1)
		if _, err := auditlog.VerifyReceipt(bad, w.sys.Audit.VerifierKey); err == nil {
			t.Error("verified")
		}
	})
	t.Run("a witness cosigns the checkpoint after verifying it", func(t *testing.T) {
		keys, err := auditlog.LoadOrCreateKey(filepath.Join(t.TempDir(), "witness.key"), "witness.example/pocdir")
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.verify(t, &verify.State{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.client.Cosign(ctx, res, keys); err != nil {
			t.Fatal(err)
		}
		cp, _ := w.sys.Audit.Latest(ctx)
		if len(cp.Cosignatures) != 1 || cp.Cosignatures[0].Witness != keys.VerifierKey || cp.Size != res.Size {
			t.Errorf("cosignatures %+v", cp.Cosignatures)
		}
	})
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("a missing file is a first run", func(t *testing.T) {
		st, err := verify.LoadState(filepath.Join(dir, "none.json"))
		if err != nil || *st != (verify.State{}) {
			t.Errorf("%+v %v", st, err)
		}
	})
	t.Run("a saved state reads back, in the file format of earlier versions", func(t *testing.T) {
		path := filepath.Join(dir, "audit.json")
		want := verify.State{Server: "https://pocdir.example.org", Key: "pocdir.example.org/log+01234567+AAAA", Size: 42,
			Checkpoint: "pocdir.example.org/log\n42\n...\n", VerifiedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		want.Root[0] = 7
		if err := want.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := verify.LoadState(path)
		if err != nil || *got != want {
			t.Errorf("read %+v %v, want %+v", got, err, want)
		}
		b, _ := os.ReadFile(path)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if strings.Join(keys, " ") != "checkpoint key root server size verified_at" {
			t.Errorf("the state file's fields are %q", keys)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v %v", fi.Mode(), err)
		}
	})
	t.Run("a malformed file is an error that names it", func(t *testing.T) {
		path := filepath.Join(dir, "bad.json")
		os.WriteFile(path, []byte("{"), 0o600)
		if _, err := verify.LoadState(path); err == nil || !strings.Contains(err.Error(), "state file "+path) {
			t.Errorf("got %v", err)
		}
	})
}
