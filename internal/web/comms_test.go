package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// commsWorld gives France, Kenya and Germany a technical PoC each.
func commsWorld(t *testing.T, sys *testkit.System) {
	t.Helper()
	for _, st := range []string{"FRA", "KEN", "DEU"} {
		fp := sys.User(t, "setup@"+strings.ToLower(st)+".example", app.RoleFocalPoint, st)
		in := testkit.ValidPoC()
		in.Agency = "CERT " + st
		in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@" + strings.ToLower(st) + ".example", Preferred: true}}
		sys.AddPoC(t, fp.Ctx(), st, in)
	}
}

// postMultipart posts a compose form with files, as a browser does.
func postMultipart(t *testing.T, c *http.Client, u string, fields url.Values, files map[string][]byte) *http.Response {
	t.Helper()
	return postFiles(t, c, u, fields, "attachments", files)
}

// postFiles posts a form with files in its field, as a browser does.
func postFiles(t *testing.T, c *http.Client, u string, fields url.Values, field string, files map[string][]byte) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", testkit.FormToken(t, c, u))
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", u, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestCommunicationPages(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	commsWorld(t, sys)
	offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
	offDEU := sys.User(t, "off@deu.example", app.RoleOfficer, "DEU")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	cf, ck, cd, cs := sys.Login(t, srv, offFRA), sys.Login(t, srv, offKEN), sys.Login(t, srv, offDEU), sys.Login(t, srv, sec)

	_, page := get(t, cf, srv.URL+"/comms/new?template=notification")
	m := regexp.MustCompile(`name="idem" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "does not imply that the State is responsible") {
		t.Fatalf("the compose form has no idempotency key or statement:\n%s", page)
	}
	form := url.Values{"template": {"notification"}, "idem": {m[1]}, "to_states": {"KEN"}, "level": {"technical"}, "action": {"send"},
		"fields.subject": {"Scanning from AS64500"}, "fields.urgency": {"high"}, "fields.tlp": {"TLP:AMBER"},
		"fields.description": {"Scanning of our ministries."}, "fields.indicators": {"203.0.113.7\nnot an indicator"}}
	t.Run("an indicator that does not parse is listed back and the form keeps what was typed", func(t *testing.T) {
		resp := postMultipart(t, cf, srv.URL+"/comms/new", form, nil)
		b := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Line 2") || !strings.Contains(b, "Scanning of our ministries.") {
			t.Errorf("%d\n%s", resp.StatusCode, b)
		}
	})
	form.Set("fields.indicators", "203.0.113.7\nevil.example")
	form.Set("fields.sector", "energy")
	form.Set("fields.detected_at", sys.Clock.Now().Add(-90*time.Minute).UTC().Format("2006-01-02T15:04"))
	var commURL string
	t.Run("sending twice (a double click) makes one communication, which waits for confirmation", func(t *testing.T) {
		var confirm string
		for range 2 {
			resp := postMultipart(t, cf, srv.URL+"/comms/new", form, map[string][]byte{"notes.txt": []byte("first seen 20 November")})
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/confirm") {
				t.Fatalf("send: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			confirm = resp.Header.Get("Location")
		}
		var n, sent int
		_ = sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(*), COUNT(sent_at) FROM comms`).Scan(&n, &sent)
		if n != 1 || sent != 0 {
			t.Fatalf("%d communications, %d sent before the confirmation", n, sent)
		}
		_, page := get(t, cf, srv.URL+confirm)
		for _, want := range []string{"Nothing has been sent yet", "Kenya", "TLP:AMBER", "High urgency", "notes.txt", "Send now", "CERT KEN", "Left empty (you may still send):", `<span dir="auto">Initial vector</span>`, `<span dir="auto">Action requested</span>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the confirmation lacks %q", want)
			}
		}
		if strings.Contains(page, `<span dir="auto">Affected sector</span>`) {
			t.Error("the confirmation lists the sector, which was given, as left empty")
		}
		if resp, _ := get(t, ck, srv.URL+confirm); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Kenya opens France's confirmation: %d", resp.StatusCode)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(confirm, "/comms/"), "/confirm")
		resp := testkit.PostForm(t, cf, srv.URL+"/comms/"+id+"/send", nil)
		resp.Body.Close()
		commURL = srv.URL + "/comms/" + id
		_ = sys.DB.QueryRowContext(context.Background(), `SELECT COUNT(sent_at) FROM comms`).Scan(&sent)
		if resp.StatusCode != http.StatusSeeOther || sent != 1 {
			t.Errorf("confirming: %d, %d sent", resp.StatusCode, sent)
		}
	})
	t.Run("the recipient reads, acknowledges on a screen that says it is not agreement, and declines", func(t *testing.T) {
		resp, page := get(t, ck, commURL)
		detected := regexp.MustCompile(`<dt dir="auto">Time of detection</dt><dd>[^<]*` + sys.Clock.Now().Add(-90*time.Minute).UTC().Format("15:04") + " UTC\u2069?</dd>")
		if resp.StatusCode != 200 || !strings.Contains(page, "Scanning from AS64500") || !strings.Contains(page, "203.0.113.7") || !strings.Contains(page, "TLP:AMBER") ||
			!strings.Contains(page, "<dt dir=\"auto\">Affected sector</dt><dd>Energy</dd>") || !detected.MatchString(page) {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
		_, ack := get(t, ck, commURL+"/ack")
		if !strings.Contains(ack, "does not mean that your State agrees") {
			t.Errorf("the acknowledgement screen:\n%s", ack)
		}
		resp = testkit.PostForm(t, ck, commURL+"/ack", url.Values{})
		resp.Body.Close()
		resp = testkit.PostForm(t, ck, commURL+"/reply", url.Values{"outcome": {"declined"}, "note": {"Not our competence."}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("decline: %d", resp.StatusCode)
		}
		_, page = get(t, cf, commURL)
		for _, want := range []string{"Acknowledged", "Declined", "Not our competence.", "off@ken.example"} {
			if !strings.Contains(page, want) {
				t.Errorf("the sender's page lacks %q", want)
			}
		}
	})
	t.Run("the Secretariat sees who and when, not what", func(t *testing.T) {
		resp, page := get(t, cs, commURL)
		if resp.StatusCode != 200 {
			t.Fatalf("%d", resp.StatusCode)
		}
		for _, secret := range []string{"Scanning", "203.0.113.7", "Not our competence", "notes.txt", "TLP:AMBER", "off@ken.example"} {
			if strings.Contains(page, secret) {
				t.Errorf("the Secretariat's page shows %q", secret)
			}
		}
		if !strings.Contains(page, "KEN") || !strings.Contains(page, "Declined") {
			t.Errorf("the metadata is missing:\n%s", page)
		}
		resp, _ = get(t, cs, commURL+"/attachments/1")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("the Secretariat downloads an attachment: %d", resp.StatusCode)
		}
		_, list := get(t, cs, srv.URL+"/comms?q=Scanning")
		if strings.Contains(list, "Scanning from") {
			t.Error("the Secretariat's list shows a subject")
		}
	})
	t.Run("a third State sees nothing", func(t *testing.T) {
		for _, p := range []string{"", "/ack", "/attachments/1", "/stix.json"} {
			if resp, _ := get(t, cd, commURL+p); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				t.Errorf("Germany GET %s: %d", p, resp.StatusCode)
			}
		}
		resp := testkit.PostForm(t, cd, commURL+"/ack", url.Values{})
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("Germany acknowledging: %d", resp.StatusCode)
		}
	})
	t.Run("the recipient downloads the attachment and the STIX bundle", func(t *testing.T) {
		resp, body := get(t, ck, commURL+"/attachments/1")
		if resp.StatusCode != 200 || body != "first seen 20 November" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Disposition"))
		}
		resp, body = get(t, ck, commURL+"/stix.json")
		if resp.StatusCode != 200 || !strings.Contains(body, "indicator--") {
			t.Errorf("%d %.200s", resp.StatusCode, body)
		}
	})
	t.Run("a search finds the sender's communication by indicator", func(t *testing.T) {
		_, list := get(t, cf, srv.URL+"/comms?q=evil.example")
		if !strings.Contains(list, "Scanning from AS64500") {
			t.Error("not found")
		}
		_, list = get(t, cf, srv.URL+"/comms?q=nothing-like-it")
		if strings.Contains(list, "Scanning from AS64500") {
			t.Error("found by an unrelated query")
		}
	})
	t.Run("a draft is saved, reopened with its values, and sent from its form", func(t *testing.T) {
		draft := url.Values{}
		for k, v := range form {
			draft[k] = v
		}
		draft.Set("idem", "draft-1")
		draft.Set("action", "draft")
		draft.Set("fields.subject", "A draft to finish")
		draft.Set("fields.respond_by", "2026-03-09T12:00")
		resp := postMultipart(t, cf, srv.URL+"/comms/new", draft, nil)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", resp.StatusCode)
		}
		_, page := get(t, cf, srv.URL+loc+"/edit")
		for _, want := range []string{`value="A draft to finish"`, `value="2026-03-09T12:00"`, "evil.example", `value="KEN" checked`} {
			if !strings.Contains(page, want) {
				t.Errorf("the draft's form lacks %s", want)
			}
		}
		if resp, _ := get(t, ck, srv.URL+loc+"/edit"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Kenya opens France's draft: %d", resp.StatusCode)
		}
		draft.Set("action", "send")
		resp = postMultipart(t, cf, srv.URL+loc+"/edit", draft, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc+"/confirm" {
			t.Fatalf("send: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp = testkit.PostForm(t, cf, srv.URL+loc+"/send", nil)
		resp.Body.Close()
		if _, page := get(t, ck, srv.URL+loc); !strings.Contains(page, "A draft to finish") {
			t.Error("Kenya does not receive the sent draft")
		}
	})
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	buf := new(bytes.Buffer)
	_, _ = buf.ReadFrom(resp.Body)
	return buf.String()
}

// TestCommsListPages shows the communications fifty at a time with links
// to the older and newer pages that work without a script, keeping the
// filters.
func TestCommsListPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		commsWorld(t, sys)
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		var refs []string
		for i := range app.PageSize + 2 {
			c, err := sys.Comms.Compose(offFRA.Ctx(), commInputTo("KEN", i))
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, c.Ref)
		}
		srv := sys.Serve(t)
		cf := sys.Login(t, srv, offFRA)
		_, page := get(t, cf, srv.URL+"/comms?box=out")
		older := regexp.MustCompile(`<a href="\?(before=[0-9_]+&amp;box=out)" rel="next">`).FindStringSubmatch(page)
		if older == nil || strings.Contains(page, `rel="prev"`) || !strings.Contains(page, refs[len(refs)-1]) || strings.Contains(page, ">"+refs[1]+"<") {
			t.Fatalf("the first page: no link to the older ones, or not the newest fifty")
		}
		_, page = get(t, cf, srv.URL+"/comms?"+strings.ReplaceAll(older[1], "&amp;", "&"))
		if !strings.Contains(page, ">"+refs[0]+"<") || !strings.Contains(page, ">"+refs[1]+"<") || strings.Contains(page, ">"+refs[2]+"<") ||
			!strings.Contains(page, `rel="prev"`) || strings.Contains(page, `rel="next"`) {
			t.Errorf("the second page: not the two oldest, or its links are wrong")
		}
		if resp, _ := get(t, cf, srv.URL+"/comms?before=soon"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a cursor that is not one: %d", resp.StatusCode)
		}
	})
}

// TestCommsListProgress: a line of the list says how far each State it
// reached got, from its lines' stages: the sender sees every State's, a
// recipient State its own only, and the filter by stage keeps what it says.
func TestCommsListProgress(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		commsWorld(t, sys)
		offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		offKEN := sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")
		in := commInputTo("KEN", 1)
		in.ToStates = []string{"KEN", "DEU"}
		c, err := sys.Comms.Compose(offFRA.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Comms.Acknowledge(offKEN.Ctx(), c.ID); err != nil {
			t.Fatal(err)
		}
		srv := sys.Serve(t)
		kenya := `<li>Kenya: <span class="badge ok">Acknowledged</span></li>`
		germany := `<li>Germany: <span class="badge">Notified</span></li>`
		_, page := get(t, sys.Login(t, srv, offFRA), srv.URL+"/comms")
		if !strings.Contains(page, kenya) || !strings.Contains(page, germany) {
			t.Errorf("the sender's list does not say where it stands with Kenya and Germany")
		}
		ck := sys.Login(t, srv, offKEN)
		_, page = get(t, ck, srv.URL+"/comms")
		if !strings.Contains(page, kenya) || strings.Contains(page, "Germany: ") {
			t.Errorf("Kenya's list does not show its own stage only")
		}
		_, page = get(t, ck, srv.URL+"/comms?stage=acknowledged")
		if !strings.Contains(page, ">"+c.Ref+"<") {
			t.Errorf("the filter by stage lost the acknowledged communication")
		}
		_, page = get(t, ck, srv.URL+"/comms?stage=notified")
		if strings.Contains(page, ">"+c.Ref+"<") {
			t.Errorf("the filter by stage kept Germany's stage for Kenya")
		}
	})
}

// commInputTo is a notification to a State, the i-th of a test.
func commInputTo(state string, i int) comms.CommInput {
	return comms.CommInput{Template: "notification", ToStates: []string{state}, Level: comms.LevelTechnical, Fields: map[string]string{
		"subject": fmt.Sprintf("Scanning %d", i), "urgency": "high", "tlp": comms.TLPGreen, "description": "Scanning of our networks."}}
}
