package web_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/checks"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/testkit"
)

// reportsWorld is a year of communications and check campaigns: each month
// France notifies Kenya, which asks France for assistance and answers the
// notification; Brazil asks France for information; Japan asks Kenya for
// consultations; Poland runs an exercise with France. Each month a
// campaign checks the five States' PoCs: France answers every time, Kenya
// every other month, the others never.
func reportsWorld(t *testing.T) (*testkit.System, *testkit.User) {
	t.Helper()
	sys := testkit.New(t, testkit.Engines()[0])
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	users := map[string]*testkit.User{}
	for i, code := range []string{"FRA", "KEN", "BRA", "JPN", "POL"} {
		fp := sys.User(t, "fp@"+strings.ToLower(code)+".example", app.RoleFocalPoint, code)
		in := testkit.ValidPoC()
		in.Channels[0].Value = "cert" + strconv.Itoa(i) + "@" + strings.ToLower(code) + ".example"
		sys.AddPoC(t, fp.Ctx(), code, in)
		users[code] = fp
	}
	send := func(from, slug string, parent int64, to ...string) *comms.Communication {
		t.Helper()
		f := map[string]string{"subject": "Kind " + slug, "urgency": "low", "tlp": comms.TLPGreen, "description": "A description."}
		switch slug {
		case "request-assistance":
			f["assistance_sought"] = "Help."
		case "request-information":
			f["questions"] = "Which?"
		case "consultation":
			f["topic"] = "A matter."
		case "exercise":
			f["exercise_name"] = "Cyber Drill"
		}
		c, err := sys.Comms.Compose(users[from].Ctx(), comms.CommInput{Template: slug, ToStates: to, Level: comms.LevelTechnical, Fields: f, ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for m := 0; m < 12; m++ {
		if m > 0 {
			now := sys.Clock.Now()
			sys.Clock.Advance(now.AddDate(0, 1, 0).Sub(now))
		}
		n := send("FRA", "notification", 0, "KEN")
		send("KEN", "request-assistance", 0, "FRA")
		send("KEN", "response", n.ID)
		send("BRA", "request-information", 0, "FRA")
		send("JPN", "consultation", 0, "KEN")
		send("POL", "exercise", 0, "FRA")
		if _, err := sys.Checks.Create(sec.Ctx(), checks.Input{Title: "Check " + strconv.Itoa(m+1), Scope: "all", Channel: checks.ChannelEmail, WindowHours: 48}); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Checks.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		answering := []string{"FRA"}
		if m%2 == 0 {
			answering = append(answering, "KEN")
		}
		for _, code := range answering {
			p, err := sys.Checks.Pending(users[code].Ctx())
			if err != nil || len(p) != 1 {
				t.Fatalf("%s's pending checks: %v %v", code, p, err)
			}
			if err := sys.Checks.AnswerInPortal(users[code].Ctx(), p[0].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 5 February 2027: the last campaign is over.
	sys.Clock.Advance(3 * 24 * time.Hour)
	if _, err := sys.Checks.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sys, sec
}

// wellFormed fails unless s is well-formed XML.
func wellFormed(t *testing.T, what, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatalf("%s is not well-formed: %v\n%s", what, err, s)
		}
	}
}

func TestDashboardReports(t *testing.T) {
	sys, sec := reportsWorld(t)
	srv := sys.Serve(t)
	t.Run("only the Secretariat downloads the reports", func(t *testing.T) {
		for _, u := range []*testkit.User{sys.User(t, "fp2@fra.example", app.RoleFocalPoint, "FRA"), sys.User(t, "off@ken.example", app.RoleOfficer, "KEN")} {
			c := sys.Login(t, srv, u)
			for _, p := range []string{"/dashboard/communications-by-month.csv", "/dashboard/check-answer-rates.csv"} {
				if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s GET %s: status %d", u.Email, p, resp.StatusCode)
				}
			}
		}
	})
	c := sys.Login(t, srv, sec)
	resp, body := get(t, c, srv.URL+"/dashboard")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	chart := func(id string) string {
		t.Helper()
		svg := regexp.MustCompile(`(?s)<svg class="chart"[^>]*aria-labelledby="` + id + `-t".*?</svg>`).FindString(body)
		if svg == "" {
			t.Fatalf("no chart %s", id)
		}
		wellFormed(t, id, svg)
		if strings.Contains(svg, "#333") || strings.Contains(svg, "style=") {
			t.Errorf("%s: fixed text colours or inline styles", id)
		}
		return svg
	}
	t.Run("the volumes by kind and by group are stacked bars, one path per series", func(t *testing.T) {
		for id, series := range map[string][]string{"vk": {"s0", "s1", "s2", "s3", "s4"}, "vg": {"s0", "s1", "s3", "s4"}} {
			svg := chart(id)
			for _, s := range append(series, "ex") {
				if n := strings.Count(svg, `class="b `+s+`"`); n != 1 {
					t.Errorf("%s: %d paths of series %s", id, n, s)
				}
			}
			// Twelve months, each a bar in each series.
			bars := regexp.MustCompile(`class="b s0" d="([^"]+)"`).FindStringSubmatch(svg)
			if bars == nil || strings.Count(strings.ToLower(bars[1]), "m") != 12 {
				t.Errorf("%s: bars %v", id, bars)
			}
			if !strings.Contains(svg, `>2026-03</text>`) || !strings.Contains(svg, `>2027-02</text>`) {
				t.Errorf("%s: months not labelled", id)
			}
		}
		// Poland's exercise is hatched in both.
		if !strings.Contains(chart("vg"), `class="b ex" fill="url(#vg-x)"`) {
			t.Error("the exercises are not hatched")
		}
	})
	t.Run("the figures are in tables", func(t *testing.T) {
		for _, want := range []string{
			"Communications sent from 2026-03 to 2027-02: 72, of which in exercises: 12.",
			`<th scope="col" dir="auto">Notification of malicious activity</th>`,
			`<th scope="col" dir="auto">Exercises</th>`,
			// By kind: a notification, a request for assistance, one for
			// information, a response, a consultation, an exercise.
			`<tr><th scope="row" class="m">2026-03</th><td>1</td><td>1</td><td>1</td><td>1</td><td>1</td><td>1</td><td>6</td></tr>`,
			// By group: Africa 2, Asia-Pacific 1, Eastern Europe 0 (its
			// exercise apart), Latin America 1, Western Europe 1.
			`<tr><th scope="row" class="m">2027-02</th><td>2</td><td>1</td><td>0</td><td>1</td><td>1</td><td>1</td><td>6</td></tr>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the dashboard lacks %q", want)
			}
		}
	})
	t.Run("the answer rates are a strip per region, a bar per campaign", func(t *testing.T) {
		svg := chart("rt")
		for _, want := range []string{">All States: 30 % answered in time</text>", ">African States: 50 % answered in time</text>",
			">Western European and other States: 100 % answered in time</text>", ">Eastern European States: 0 % answered in time</text>",
			`class="band"`, `>2026-03-02</text>`} {
			if !strings.Contains(svg, want) {
				t.Errorf("the chart lacks %q", want)
			}
		}
		bars := regexp.MustCompile(`class="b s0" d="([^"]+)"`).FindStringSubmatch(svg)
		// Every region was checked by every campaign: 6 strips of 12 bars.
		if bars == nil || strings.Count(strings.ToLower(bars[1]), "m") != 72 {
			t.Errorf("bars %v", bars)
		}
		for _, want := range []string{`<a href="/checks/1" dir="auto">Check 1</a>`, "<td>40 % (2/5)</td><td>100 % (1/1)</td>", "<td>20 % (1/5)</td><td>0 % (0/1)</td>",
			"<td>30 % (18/60)</td><td>50 % (6/12)</td>"} {
			if !strings.Contains(body, want) {
				t.Errorf("the table lacks %q", want)
			}
		}
	})
	read := func(p string) [][]string {
		t.Helper()
		resp, body := get(t, c, srv.URL+p)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: status %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return csvRows(t, body)
	}
	t.Run("the volumes download as CSV", func(t *testing.T) {
		rows := read("/dashboard/communications-by-month.csv")
		if strings.Join(rows[0], ",") != "month,un_group,kind,exercise,communications" {
			t.Fatalf("header %v", rows[0])
		}
		total, exercise := 0, 0
		for _, r := range rows[1:] {
			n, _ := strconv.Atoi(r[4])
			total += n
			if r[3] == "true" {
				exercise += n
				if r[1] != "Eastern European" || r[2] != "exercise" {
					t.Errorf("exercise %v", r)
				}
			}
		}
		if total != 72 || exercise != 12 || len(rows) != 1+12*6 {
			t.Errorf("%d rows, %d communications, %d in exercises", len(rows), total, exercise)
		}
		if strings.Join(rows[1], ",") != "2026-03,African,request-assistance,false,1" {
			t.Errorf("first row %v", rows[1])
		}
	})
	t.Run("the answer rates download as CSV", func(t *testing.T) {
		rows := read("/dashboard/check-answer-rates.csv")
		want := map[string]string{
			"1 all":                            "5,2,0,0,3,40",
			"1 African":                        "1,1,0,0,0,100",
			"2 African":                        "1,0,0,0,1,0",
			"12 Western European and Others":   "1,1,0,0,0,100",
			"all all":                          "60,18,0,0,42,30",
			"all Latin American and Caribbean": "12,0,0,0,12,0",
		}
		got := 0
		for _, r := range rows[1:] {
			if w, ok := want[r[0]+" "+r[4]]; ok {
				got++
				if g := strings.Join(r[5:], ","); g != w {
					t.Errorf("%s, %s: %s, want %s", r[1], r[4], g, w)
				}
			}
		}
		if got != len(want) || len(rows) != 1+13*6 {
			t.Errorf("%d rows: %v", len(rows), rows)
		}
		if rows[1][1] != "Check 1" || rows[1][2] != "2026-03-02" || rows[1][3] != "closed" {
			t.Errorf("first campaign %v", rows[1])
		}
	})
	t.Run("in Arabic, with the digits 0-9", func(t *testing.T) {
		ar := sys.User(t, "sec-ar@un.example", app.RoleSecretariat, "")
		if err := sys.Accounts.SetLanguage(ar.Ctx(), "ar"); err != nil {
			t.Fatal(err)
		}
		_, page := get(t, sys.Login(t, srv, ar), srv.URL+"/dashboard")
		for _, want := range []string{"الرسائل المُرسلة من 2026-03 إلى 2027-02: 72، منها في إطار تمارين: 12.", ">الدول الأفريقية: 50 % ردّت في الموعد</text>"} {
			if !strings.Contains(page, want) {
				t.Errorf("the Arabic dashboard lacks %q", want)
			}
		}
		if regexp.MustCompile(`[٠-٩]`).MatchString(page) {
			t.Error("Arabic-Indic digits on the page")
		}
	})
	t.Run("with a year of figures, the dashboard keeps to its weight in every language", func(t *testing.T) {
		const budget = 30 << 10
		for _, lang := range []string{"en", "ar", "ru", "fr"} {
			u := sys.User(t, "sec-w-"+lang+"@un.example", app.RoleSecretariat, "")
			if err := sys.Accounts.SetLanguage(u.Ctx(), lang); err != nil {
				t.Fatal(err)
			}
			c := sys.Login(t, srv, u)
			c.Transport = &http.Transport{DisableCompression: true}
			req, _ := http.NewRequest("GET", srv.URL+"/dashboard", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			css := cssSize(t, c, srv.URL, b, resp.Header.Get("Content-Encoding") == "gzip")
			if total := len(b) + css; total > budget {
				t.Errorf("the dashboard in %s weighs %d bytes compressed with its CSS, over %d", lang, total, budget)
			} else {
				t.Logf("the dashboard in %s: %d bytes page + %d bytes CSS", lang, len(b), css)
			}
		}
	})
}
