package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/export"
	"github.com/pocdir/pocdir/internal/testkit"
)

// csvRows reads a CSV download back with Go's reader after checking its
// bytes: a UTF-8 byte order mark first, and every line ended by CRLF.
func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	rest, ok := strings.CutPrefix(body, export.BOM)
	if !ok {
		t.Fatalf("the CSV has no byte order mark: %.40q", body)
	}
	if strings.Contains(strings.ReplaceAll(rest, "\r\n", ""), "\n") || !strings.HasSuffix(rest, "\r\n") {
		t.Errorf("a line of the CSV does not end with CRLF: %.200q", rest)
	}
	rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// vcards reads a vCard download with go-vcard.
func vcards(t *testing.T, body string) []vcard.Card {
	t.Helper()
	dec := vcard.NewDecoder(strings.NewReader(body))
	var out []vcard.Card
	for {
		c, err := dec.Decode()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%v in %q", err, body)
		}
		out = append(out, c)
	}
}

func TestExports(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		srv := sys.Serve(t)
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpA := sys.User(t, "fp@civ.example", app.RoleFocalPoint, "CIV")
		offA := sys.User(t, "off@civ.example", app.RoleOfficer, "CIV")
		fpB := sys.User(t, "fp@chn.example", app.RoleFocalPoint, "CHN")
		offB := sys.User(t, "off@chn.example", app.RoleOfficer, "CHN")
		if err := sys.Accounts.SetLanguage(offB.Ctx(), "zh"); err != nil {
			t.Fatal(err)
		}

		in := testkit.ValidPoC()
		in.Agency, in.FunctionTitle, in.PersonName = "Autorité de régulation des télécommunications, CI-CERT", "=Responsable; veille", "Aya Kouassi"
		civ := sys.AddPoC(t, fpA.Ctx(), "CIV", in)
		in = testkit.ValidPoC()
		in.Level, in.Agency, in.Languages, in.TimeZone = directory.LevelDiplomatic, "外交部网络事务办公室", []string{"zh", "en"}, "Asia/Shanghai"
		sys.AddPoC(t, fpB.Ctx(), "CHN", in)

		// What is proposed but not validated is seen by the State's own users
		// and the Secretariat on the pages, and is in no export.
		pending := testkit.ValidPoC()
		pending.Agency = "Pending agency never validated"
		if _, err := sys.Directory.ProposePoC(fpA.Ctx(), "CIV", pending); err != nil {
			t.Fatal(err)
		}
		change := testkit.ValidPoC()
		change.Agency, change.Version = civ.Agency, civ.Version
		change.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "pending-address@civ.example", Preferred: true}}
		if _, err := sys.Directory.ProposePoCUpdate(fpA.Ctx(), civ.ID, change); err != nil {
			t.Fatal(err)
		}

		paths := []string{"/directory/export?format=csv", "/directory/export?format=json", "/directory/export?format=vcard",
			"/directory/export?format=csv&q=ivoire", "/directory/export", "/states/CIV/export?format=csv", "/states/CIV/export?format=json",
			"/states/civ/export?format=vcard", fmt.Sprintf("/pocs/%d/vcard", civ.ID), "/directory/export?format=pdf&q=ivoire", "/states/CIV/export?format=pdf"}
		users := []*testkit.User{sec, fpA, offA, fpB, offB}
		clients := map[*testkit.User]*http.Client{}
		for _, u := range users {
			clients[u] = sys.Login(t, srv, u)
		}
		for _, u := range users {
			for _, p := range paths {
				t.Run(u.Email+" downloads "+p+" with only what is validated", func(t *testing.T) {
					resp, body := get(t, clients[u], srv.URL+p)
					if resp.StatusCode != 200 {
						t.Fatalf("status %d: %.300s", resp.StatusCode, body)
					}
					if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="pocdir-`) {
						t.Errorf("Content-Disposition %q", cd)
					}
					if strings.Contains(p, "format=pdf") {
						body = testkit.PDFText(t, []byte(body))
					}
					for _, leak := range []string{"Pending agency", "pending-address"} {
						if strings.Contains(body, leak) {
							t.Errorf("the export holds %q, which is not validated", leak)
						}
					}
					if !strings.Contains(body, "cert@example.org") || !strings.Contains(body, "CI-CERT") {
						t.Errorf("the export lacks the validated PoC: %.300s", body)
					}
				})
			}
		}

		c := clients[offB]
		t.Run("the directory's CSV opens in a spreadsheet with names and formulas right", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+"/directory/export?format=csv")
			if resp.Header.Get("Content-Type") != export.CSVType || resp.Header.Get("Content-Disposition") != `attachment; filename="pocdir-directory.csv"` {
				t.Errorf("headers %v", resp.Header)
			}
			rows := csvRows(t, body)
			if len(rows) != 1+195 {
				t.Errorf("%d rows: want a header and a line for each State (one PoC each at most here)", len(rows))
			}
			found := false
			for _, r := range rows {
				if r[0] == "CIV" {
					found = true
					if r[1] != "Côte d'Ivoire" || r[11] != civ.Agency || r[12] != "'=Responsable; veille" || r[15] != "'+41 22 917 1234" {
						t.Errorf("CIV: %q", r)
					}
				}
			}
			if !found {
				t.Error("no line for CIV")
			}
		})
		t.Run("a filtered download holds what the filtered page lists", func(t *testing.T) {
			_, body := get(t, c, srv.URL+"/directory/export?format=csv&level=diplomatic")
			rows := csvRows(t, body)
			if len(rows) != 2 || rows[1][0] != "CHN" {
				t.Errorf("rows %q", rows)
			}
			_, page := get(t, c, srv.URL+"/directory?level=diplomatic&h247=1")
			if !strings.Contains(page, `href="/directory/export?format=vcard&amp;h247=1&amp;level=diplomatic"`) {
				t.Error("the directory page's download link does not keep the filters")
			}
		})
		t.Run("the JSON is the API's shape", func(t *testing.T) {
			_, body := get(t, c, srv.URL+"/states/CIV/export?format=json")
			var got directory.Entry
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Code != "CIV" || len(got.PoCs) != 1 || got.PoCs[0].Agency != civ.Agency {
				t.Errorf("%v: %+v", err, got)
			}
			_, body = get(t, c, srv.URL+"/directory/export?format=json&q=china")
			var all struct {
				States []directory.Entry `json:"states"`
				Count  int               `json:"count"`
			}
			if err := json.Unmarshal([]byte(body), &all); err != nil || all.Count != 1 || all.States[0].PoCs[0].Agency != "外交部网络事务办公室" {
				t.Errorf("%v: %+v", err, all)
			}
		})
		t.Run("the PDF is in the reader's language, with its Chinese names as they are written", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+"/directory/export?format=pdf&q=china")
			if resp.Header.Get("Content-Type") != export.PDFType || resp.Header.Get("Content-Disposition") != `attachment; filename="pocdir-directory-filtered.pdf"` {
				t.Errorf("headers %v", resp.Header)
			}
			text := testkit.PDFText(t, []byte(body))
			for _, want := range []string{"联络点名录", "中国 (CHN)", "外交部网络事务办公室", "第 1 页，共 1 页"} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "CIV") {
				t.Error("the filtered PDF holds a State the filter leaves out")
			}
		})
		t.Run("a PoC's vCard reads in an independent parser, in the reader's language", func(t *testing.T) {
			resp, body := get(t, c, srv.URL+fmt.Sprintf("/pocs/%d/vcard", civ.ID))
			if resp.Header.Get("Content-Type") != export.VCardType {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			cards := vcards(t, body)
			if len(cards) != 1 {
				t.Fatalf("%d cards", len(cards))
			}
			card := cards[0]
			if card.Value(vcard.FieldFormattedName) != "Aya Kouassi" || card.PreferredValue(vcard.FieldEmail) != "cert@example.org" ||
				card.Address() == nil || card.Address().Country != "科特迪瓦" {
				t.Errorf("card %v", card)
			}
			_, body = get(t, c, srv.URL+"/directory/export?format=vcard")
			if n := len(vcards(t, body)); n != 2 {
				t.Errorf("%d cards in the directory, want one per PoC", n)
			}
		})
		t.Run("what is not there is not found, and a format that does not exist is refused", func(t *testing.T) {
			for p, want := range map[string]int{"/states/XXX/export?format=csv": 404, "/pocs/999999/vcard": 404, "/pocs/abc/vcard": 404,
				"/directory/export?format=xlsx": 400, "/states/CIV/export?format=docx": 400} {
				if resp, _ := get(t, c, srv.URL+p); resp.StatusCode != want {
					t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
				}
			}
		})
		t.Run("the State page offers its downloads and a vCard for each PoC", func(t *testing.T) {
			_, page := get(t, c, srv.URL+"/states/CIV")
			for _, want := range []string{`href="/states/CIV/export?format=csv"`, `href="/states/CIV/export?format=vcard"`, `href="/states/CIV/export?format=pdf"`, fmt.Sprintf(`href="/pocs/%d/vcard"`, civ.ID)} {
				if !strings.Contains(page, want) {
					t.Errorf("the State page lacks %s", want)
				}
			}
		})
		t.Run("every export is in the accountability log, by whom", func(t *testing.T) {
			entries, err := sys.Audit.Entries(app.WithActor(context.Background(), app.System), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range entries {
				if e.Type == "directory.exported" {
					seen[e.Object] = true
				}
			}
			for _, o := range []string{"export:directory.csv", "export:directory.csv?q=ivoire", "export:directory.vcard", "export:state/CIV.json", "export:state/CIV.pdf", "export:directory.pdf?q=china",
				fmt.Sprintf("export:poc/%d.vcf", civ.ID), "export:directory.csv?level=diplomatic"} {
				if !seen[o] {
					t.Errorf("%s is not in the log", o)
				}
			}
		})
	})
}

// TestCSVDownloadsHaveTheirByteOrderMark checks every CSV pocdir already
// wrote before the exports: the dashboard's figures and a check's results.
func TestCSVDownloadsHaveTheirByteOrderMark(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	srv := sys.Serve(t)
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	c := sys.Login(t, srv, sec)
	for _, p := range []string{"/dashboard/states.csv", "/dashboard/summary.csv", "/dashboard/coverage-un-groups.csv", "/dashboard/communications-by-month.csv"} {
		resp, body := get(t, c, srv.URL+p)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != export.CSVType {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if rows := csvRows(t, body); len(rows) < 1 {
			t.Errorf("%s: %q", p, rows)
		}
		if !bytes.HasPrefix([]byte(body), []byte{0xEF, 0xBB, 0xBF}) {
			t.Errorf("%s lacks the byte order mark", p)
		}
	}
}
