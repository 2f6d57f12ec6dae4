package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBrowserEveryLanguage renders the main pages in each of the six
// languages in chromium and checks their language, direction and width. With
// POCDIR_SCREENSHOTS=1 it saves the Arabic and Chinese pages (1280×900) to
// docs/screenshots for the documentation:
//
//	POCDIR_SCREENSHOTS=1 go test ./internal/web/ -run TestBrowserEveryLanguage -count=1
func TestBrowserEveryLanguage(t *testing.T) {
	t.Run("the directory, a State and the PoC form render in each UN language, Arabic right to left", func(t *testing.T) {
		sys := sqlite(t)
		srv := sys.Serve(t)
		a11yFixture(t, sys)
		fp := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		for _, l := range []struct {
			u  *testkit.User
			in cii.Input
		}{
			{fp, cii.Input{Sectors: []cii.Sector{{Key: "energy", Note: directory.Text{Lang: "fr", Text: "Réseau de transport d'électricité", English: "Power transmission grid"}}, {Key: "finance"}, {Key: "space"},
				{Name: directory.Text{Lang: "fr", Text: "Audiovisuel public", English: "Public broadcasting"}}},
				Criteria: directory.Text{Lang: "fr", Text: "Opérateurs dont l'indisponibilité menacerait gravement la vie de la Nation.", English: "Operators whose unavailability would gravely threaten the life of the Nation."}}},
			{fpKEN, cii.Input{Sectors: []cii.Sector{{Key: "energy"}, {Key: "telecom"}, {Key: "elections"}, {Name: directory.Text{Lang: "en", Text: "Mobile money"}}}}},
		} {
			if _, err := sys.CII.Publish(l.u.Ctx(), l.u.State, l.in); err != nil {
				t.Fatal(err)
			}
		}
		b := newBrowser(t, srv.URL)
		// The window's viewport is smaller than the window; the documentation
		// wants 1280×900 pictures.
		if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 900, DeviceScaleFactor: 1}); err != nil {
			t.Fatal(err)
		}
		b.signIn(sys, fp)
		pages := []struct{ name, path string }{{"state", "/states/FRA"}, {"poc-form", "/states/FRA/pocs/new"}, {"directory", "/directory"},
			{"cii", "/cii"}, {"cii-state", "/states/FRA/cii"}, {"cii-form", "/states/FRA/cii/edit"}}
		for _, lang := range unLanguages {
			// The switcher returns to the page it is on.
			b.do("choose "+lang, chromedp.SetValue(chromedp.CSS("#f-lang-switch"), lang))
			b.submit(`footer form.lang-switch button[type=submit]`)
			wantDir := "ltr"
			if lang == "ar" {
				wantDir = "rtl"
			}
			for _, p := range pages {
				b.open(p.path)
				// The page's direction as laid out, not only as declared: the
				// main column's text starts on the right in Arabic.
				got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.documentElement.dir,
					getComputedStyle(document.querySelector("main")).direction]`))
				if err != nil {
					t.Fatalf("%s in %s: %v", p.path, lang, err)
				}
				if want := []string{lang, wantDir, wantDir}; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s in %s: lang, dir and main's direction %q, want %q", p.path, lang, got, want)
				}
				b.wantNoHorizontalScroll()
				if lang == "ar" || lang == "zh" {
					b.screenshot(p.name+"-"+lang+".png", false)
				}
			}
		}
	})
}
