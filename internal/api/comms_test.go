package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// stateC is a third State, to share with.
const stateC = "DEU"

// commsReady gives States A, B and C a technical PoC with email, once.
func (f *fixture) commsReady(t testing.TB) {
	t.Helper()
	f.mu.Lock()
	var n int
	_ = f.sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pocs WHERE state_code = $1`, stateC).Scan(&n)
	f.mu.Unlock()
	if n > 0 {
		return
	}
	fpC := f.sys.User(t, "focal@deu.test", app.RoleFocalPoint, stateC)
	for _, u := range []*testkit.User{f.fpA, f.fpB, fpC} {
		in := testkit.ValidPoC()
		in.Agency = "CERT " + u.State
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@" + strings.ToLower(u.State) + ".test", Preferred: true}}
		f.sys.AddPoC(t, u.Ctx(), u.State, in)
	}
}

func commInput(f *fixture, tlp string, to ...string) comms.CommInput {
	return comms.CommInput{Template: "notification", ToStates: to, Level: comms.LevelTechnical, Fields: map[string]string{
		"subject": fmt.Sprintf("Scanning %d", f.next()), "urgency": "high", "tlp": tlp, "description": "Scanning of our networks.",
		"indicators": "203.0.113.7\nevil.example"}}
}

// comm sends (or drafts) a communication from A's officer to B.
func (f *fixture) comm(t testing.TB, draft bool, tlp string) *comms.Communication {
	t.Helper()
	f.commsReady(t)
	in := commInput(f, tlp, stateB)
	in.Draft = draft
	in.Attachments = []*comms.Attachment{{Name: "notes.txt", Data: []byte("seen from 20 November")}}
	c, err := f.sys.Comms.Compose(f.offA.Ctx(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ackedByEmail sends a communication of A to B and has B's PoC acknowledge
// it through the link of its email (an act by email, unverified); it
// returns the communication and the event.
func (f *fixture) ackedByEmail(t testing.TB) (int64, int64) {
	t.Helper()
	c := f.comm(t, false, comms.TLPAmber)
	var body string
	if err := f.sys.DB.QueryRow(`SELECT o.body FROM outbox o JOIN comm_recipients r ON r.outbox_id = o.id WHERE r.comm_id = $1`, c.ID).Scan(&body); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`/ack/([a-z2-7]{40})`).FindStringSubmatch(body)
	if token == nil {
		t.Fatalf("no acknowledgement link in\n%s", body)
	}
	if _, err := f.sys.Comms.AcknowledgeByLink(context.Background(), token[1], ""); err != nil {
		t.Fatal(err)
	}
	th, err := f.sys.Comms.Thread(f.offA.Ctx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range th.Events {
		if e.Kind == comms.EvAcknowledged && e.Via == "email" {
			return c.ID, e.ID
		}
	}
	t.Fatal("no acknowledgement by email in the thread")
	return 0, 0
}

// consentRequest has B ask to share a TLP:AMBER communication of A with C.
func (f *fixture) consentRequest(t testing.TB) (int64, int64) {
	t.Helper()
	c := f.comm(t, false, comms.TLPAmber)
	if _, err := f.sys.Comms.Share(f.offB.Ctx(), c.ID, stateC, "C hosts the server"); err != nil {
		t.Fatal(err)
	}
	th, err := f.sys.Comms.Thread(f.offA.Ctx(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range th.Events {
		if e.Kind == comms.EvConsentRequested {
			return c.ID, e.ID
		}
	}
	t.Fatal("no consent request")
	return 0, 0
}

// commsSnapshot is what the communication routes may change, for the
// authorization table's snapshot (opening is not a change: reading
// records it).
func (f *fixture) commsSnapshot(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT id || ':' || status || ':' || level || ':' || content FROM comms ORDER BY id`,
		`SELECT comm_id || ':' || state_code || ':' || COALESCE(poc_id, 0) || ':' || (acked_at IS NULL) || ':' || outcome FROM comm_recipients ORDER BY id`,
		`SELECT kind || ':' || comm_id || ':' || verification FROM comm_events WHERE kind <> 'opened' ORDER BY id`,
		`SELECT state_code || ':' || counterpart FROM comm_tensions ORDER BY state_code, counterpart`,
		`SELECT comm_id || ':' || size FROM comm_attachments ORDER BY id`,
	} {
		rows, err := f.sys.DB.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		rows.Close()
	}
	return out
}

func init() {
	sent := func(tlp, suffix string) func(t *testing.T, f *fixture) (string, any) {
		return func(t *testing.T, f *fixture) (string, any) {
			return fmt.Sprintf("/api/v1/comms/%d%s", f.comm(t, false, tlp).ID, suffix), nil
		}
	}
	authRoutes = append(authRoutes,
		// callers:                                                                  anon bad  sec  fpA  fpB  offA offB roA  obsA
		authRoute{"GET /api/v1/comms", "list their State's communications", path("/api/v1/comms"), [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
		authRoute{"POST /api/v1/comms", "send a communication to " + stateB,
			func(t *testing.T, f *fixture) (string, any) {
				f.commsReady(t)
				return "/api/v1/comms", commInput(f, comms.TLPAmber, stateB)
			}, [nCallers]int{401, 401, 403, 201, 400, 201, 400, 403, 403}},
		authRoute{"GET /api/v1/comms/{id}", "read a communication from " + stateA + " to " + stateB + " (the Secretariat: its metadata)", sent(comms.TLPAmber, ""),
			[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
		authRoute{"PUT /api/v1/comms/{id}", "change a draft of " + stateA,
			func(t *testing.T, f *fixture) (string, any) {
				c := f.comm(t, true, comms.TLPAmber)
				in := commInput(f, comms.TLPGreen, stateB)
				in.Draft = true
				return fmt.Sprintf("/api/v1/comms/%d", c.ID), in
			}, [nCallers]int{401, 401, 403, 200, 404, 200, 404, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/send", "send a draft of " + stateA,
			func(t *testing.T, f *fixture) (string, any) {
				return fmt.Sprintf("/api/v1/comms/%d/send", f.comm(t, true, comms.TLPAmber).ID), nil
			}, [nCallers]int{401, 401, 403, 200, 404, 200, 404, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/acknowledge", "acknowledge a communication sent to " + stateB, sent(comms.TLPAmber, "/acknowledge"),
			[nCallers]int{401, 401, 403, 403, 200, 403, 200, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/escalate", "escalate a communication of " + stateA, sent(comms.TLPAmber, "/escalate"),
			[nCallers]int{401, 401, 403, 200, 403, 200, 403, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/reply", "decline a communication sent to " + stateB,
			func(t *testing.T, f *fixture) (string, any) {
				p, _ := sent(comms.TLPAmber, "/reply")(t, f)
				return p, map[string]string{"outcome": comms.OutcomeDeclined, "note": "Not our competence."}
			}, [nCallers]int{401, 401, 403, 403, 200, 403, 200, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/share", "ask to share a TLP:AMBER communication with " + stateC,
			func(t *testing.T, f *fixture) (string, any) {
				p, _ := sent(comms.TLPAmber, "/share")(t, f)
				return p, map[string]string{"state": stateC, "note": "They host the server."}
			}, [nCallers]int{401, 401, 403, 403, 202, 403, 202, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/consents/{request}/grant", "consent to sharing a communication of " + stateA + " with " + stateC,
			func(t *testing.T, f *fixture) (string, any) {
				c, req := f.consentRequest(t)
				return fmt.Sprintf("/api/v1/comms/%d/consents/%d/grant", c, req), nil
			}, [nCallers]int{401, 401, 403, 200, 403, 200, 403, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/consents/{request}/refuse", "refuse sharing a communication of " + stateA + " with " + stateC,
			func(t *testing.T, f *fixture) (string, any) {
				c, req := f.consentRequest(t)
				return fmt.Sprintf("/api/v1/comms/%d/consents/%d/refuse", c, req), nil
			}, [nCallers]int{401, 401, 403, 200, 403, 200, 403, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/events/{event}/confirm", "confirm an acknowledgement of " + stateB + " received by email, unverified",
			func(t *testing.T, f *fixture) (string, any) {
				c, ev := f.ackedByEmail(t)
				return fmt.Sprintf("/api/v1/comms/%d/events/%d/confirm", c, ev), nil
			}, [nCallers]int{401, 401, 403, 403, 200, 403, 200, 403, 403}},
		authRoute{"POST /api/v1/comms/{id}/events/{event}/reject", "reject an acknowledgement of " + stateB + " received by email, unverified",
			func(t *testing.T, f *fixture) (string, any) {
				c, ev := f.ackedByEmail(t)
				return fmt.Sprintf("/api/v1/comms/%d/events/%d/reject", c, ev), nil
			}, [nCallers]int{401, 401, 403, 403, 200, 403, 200, 403, 403}},
		authRoute{"GET /api/v1/comms/{id}/thread", "read the exchange of a communication (the Secretariat: its metadata)", sent(comms.TLPAmber, "/thread"),
			[nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
		authRoute{"GET /api/v1/comms/{id}/stix", "export a TLP:AMBER communication's indicators as STIX", sent(comms.TLPAmber, "/stix"),
			[nCallers]int{401, 401, 403, 200, 200, 200, 200, 200, 403}},
		authRoute{"GET /api/v1/comms/{id}/attachments/{aid}", "download an attachment",
			func(t *testing.T, f *fixture) (string, any) {
				c := f.comm(t, false, comms.TLPAmber)
				return fmt.Sprintf("/api/v1/comms/%d/attachments/%d", c.ID, c.Attachments[0].ID), nil
			}, [nCallers]int{401, 401, 403, 200, 200, 200, 200, 200, 403}},
		authRoute{"POST /api/v1/indicators/parse", "check indicators", func(t *testing.T, f *fixture) (string, any) {
			return "/api/v1/indicators/parse", "203.0.113.7\nnot an indicator"
		}, [nCallers]int{401, 401, 200, 200, 200, 200, 200, 200, 403}},
		authRoute{"GET /api/v1/routing/tensions", "read their State's routing preferences", path("/api/v1/routing/tensions"),
			[nCallers]int{401, 401, 403, 200, 200, 200, 200, 200, 403}},
		authRoute{"PUT /api/v1/routing/tensions/{state}", "declare tension with " + stateC,
			func(t *testing.T, f *fixture) (string, any) {
				if _, err := f.sys.DB.ExecContext(context.Background(), `DELETE FROM comm_tensions`); err != nil {
					t.Fatal(err)
				}
				return "/api/v1/routing/tensions/" + stateC, nil
			}, [nCallers]int{401, 401, 403, 204, 204, 403, 403, 403, 403}},
		authRoute{"DELETE /api/v1/routing/tensions/{state}", "end a declared tension with " + stateC,
			func(t *testing.T, f *fixture) (string, any) {
				for _, s := range []string{stateA, stateB} {
					if _, err := f.sys.DB.ExecContext(context.Background(), `INSERT INTO comm_tensions (state_code, counterpart, declared_by, declared_at)
						VALUES ($1, $2, 'x', $3) ON CONFLICT DO NOTHING`, s, stateC, f.sys.Clock.Now()); err != nil {
						t.Fatal(err)
					}
				}
				return "/api/v1/routing/tensions/" + stateC, nil
			}, [nCallers]int{401, 401, 403, 204, 204, 403, 403, 403, 403}},
	)
}

func TestCommunicationsOverTheAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		f.commsReady(t)
		in := commInput(f, comms.TLPAmber, stateB)
		t.Run("a repeated request with the same Idempotency-Key makes one communication", func(t *testing.T) {
			r1 := f.do(t, "POST", "/api/v1/comms", f.offATok, in, "Idempotency-Key", "retry-1")
			r2 := f.do(t, "POST", "/api/v1/comms", f.offATok, in, "Idempotency-Key", "retry-1")
			c1, c2 := decode[comms.Communication](t, r1), decode[comms.Communication](t, r2)
			if r1.Status != http.StatusCreated || c1.ID == 0 || c1.ID != c2.ID {
				t.Errorf("%d %d / %d", r1.Status, c1.ID, c2.ID)
			}
		})
		t.Run("indicators that do not parse come back with their line and nothing is sent", func(t *testing.T) {
			bad := commInput(f, comms.TLPAmber, stateB)
			bad.Fields["indicators"] = "203.0.113.7\nnot-an-indicator here"
			r := f.do(t, "POST", "/api/v1/comms", f.offATok, bad)
			e := checkError(t, r)
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "fields.indicators") || len(e.Error.Fields) != 1 {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("the Secretariat gets metadata without content", func(t *testing.T) {
			r := f.do(t, "GET", "/api/v1/comms", f.secTok, nil)
			for _, secret := range []string{"Scanning", "203.0.113.7", "TLP:AMBER", "cert@ken.test"} {
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("the Secretariat's list holds %q", secret)
				}
			}
			var list struct{ Communications []comms.Communication }
			if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Communications) != 1 || list.Communications[0].SenderState != stateA {
				t.Errorf("%v %s", err, r.Body)
			}
		})
		t.Run("a STIX bundle or a plain list is parsed for the compose form", func(t *testing.T) {
			r := f.do(t, "POST", "/api/v1/indicators/parse", f.offATok, "203.0.113.7\nevil.example\n???")
			var out struct {
				Indicators []comms.Indicator
				Problems   []comms.Problem
			}
			if err := json.Unmarshal(r.Body, &out); err != nil || len(out.Indicators) != 2 || len(out.Problems) != 1 || out.Problems[0].Line != 3 {
				t.Errorf("%v %s", err, r.Body)
			}
		})
	})
}

// TestUnknownFieldsAreRefused: a key inside fields that the template does
// not have is refused with its name, as unknown top-level keys are, rather
// than dropped (what was written there would silently not be sent).
func TestUnknownFieldsAreRefused(t *testing.T) {
	f := newFixture(t, testkit.Engines()[0])
	f.commsReady(t)
	in := commInput(f, comms.TLPGreen, stateB)
	in.Fields["reference_of_our_case"] = "CERT-FR-2026-0042"
	r := f.do(t, "POST", "/api/v1/comms", f.offATok, in)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"fields.reference_of_our_case"`) {
		t.Errorf("%d %s", r.Status, r.Body)
	}
	if list, _ := f.sys.Comms.Comms(f.offA.Ctx(), comms.Filter{Box: "out"}); len(list) != 0 {
		t.Error("a communication with an unknown field was sent")
	}
}

// TestCommsAndInboxPages pages through the communications and the inbox by
// their cursors, and refuses a cursor or a page size that is not one.
func TestCommsAndInboxPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		sent := map[int64]bool{}
		for range 3 {
			sent[f.comm(t, false, comms.TLPGreen).ID] = true
		}
		type commPage struct {
			Communications []*comms.Communication
			Next           string
		}
		seen := map[int64]bool{}
		path, pages := "/api/v1/comms?box=out&limit=2", 0
		for {
			r := f.do(t, "GET", path, f.offATok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
			p := decode[commPage](t, r)
			pages++
			for _, c := range p.Communications {
				if seen[c.ID] || !sent[c.ID] {
					t.Errorf("page %d lists %d again or not sent", pages, c.ID)
				}
				seen[c.ID] = true
			}
			if p.Next == "" || pages > 3 {
				break
			}
			path = "/api/v1/comms?box=out&limit=2&cursor=" + p.Next
		}
		if len(seen) != 3 || pages != 2 {
			t.Errorf("%d communications in %d pages, want 3 in 2", len(seen), pages)
		}
		type inboxPage struct {
			Items          []map[string]any
			Count          int
			Next, Previous string
		}
		r := f.do(t, "GET", "/api/v1/inbox?limit=2", f.offBTok, nil)
		first := decode[inboxPage](t, r)
		if r.Status != http.StatusOK || len(first.Items) != 2 || first.Count != 3 || first.Next == "" || first.Previous != "" {
			t.Fatalf("the inbox's first page: %d %s", r.Status, r.Body)
		}
		r = f.do(t, "GET", "/api/v1/inbox?limit=2&cursor="+first.Next, f.offBTok, nil)
		second := decode[inboxPage](t, r)
		if len(second.Items) != 1 || second.Next != "" || second.Previous == "" {
			t.Errorf("the inbox's second page: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{"/api/v1/comms?cursor=yesterday", "/api/v1/comms?limit=0", "/api/v1/comms?limit=201", "/api/v1/inbox?cursor=n%21", "/api/v1/inbox?limit=x"} {
			if r := f.do(t, "GET", path, f.offATok, nil); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", path, r.Status)
			}
		}
	})
}

// TestCheckPages walks the list of campaigns a page at a time through the
// API, as the Secretariat and as a State that sees a bilateral check the
// Secretariat does not.
func TestCheckPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		for i := range 3 {
			if r := f.do(t, "POST", "/api/v1/checks", f.secTok, checks.Input{Title: fmt.Sprintf("Q%d", i), Scope: "all", Channel: "email", WindowHours: 24}); r.Status != http.StatusCreated {
				t.Fatalf("creating a campaign: %d %s", r.Status, r.Body)
			}
		}
		if r := f.do(t, "POST", "/api/v1/checks", f.fpATok, checks.Input{Title: "Bilateral", Scope: "all", Channel: "email", WindowHours: 24, Counterpart: stateB}); r.Status != http.StatusCreated {
			t.Fatalf("creating a bilateral check: %d %s", r.Status, r.Body)
		}
		type checkPage struct {
			Campaigns []*checks.Campaign
			Next      string
		}
		for tok, want := range map[string]int{f.secTok: 3, f.offBTok: 4} {
			seen, pages := map[int64]bool{}, 0
			for path := "/api/v1/checks?limit=2"; ; {
				r := f.do(t, "GET", path, tok, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, r.Status, r.Body)
				}
				p := decode[checkPage](t, r)
				pages++
				for _, c := range p.Campaigns {
					if seen[c.ID] {
						t.Errorf("page %d lists %d again", pages, c.ID)
					}
					seen[c.ID] = true
				}
				if p.Next == "" || pages > 3 {
					break
				}
				path = "/api/v1/checks?limit=2&cursor=" + p.Next
			}
			if len(seen) != want || pages != 2 {
				t.Errorf("%d campaigns in %d pages, want %d in 2", len(seen), pages, want)
			}
		}
		for _, path := range []string{"/api/v1/checks?cursor=yesterday", "/api/v1/checks?limit=0", "/api/v1/checks?limit=201"} {
			if r := f.do(t, "GET", path, f.secTok, nil); r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", path, r.Status)
			}
		}
	})
}
