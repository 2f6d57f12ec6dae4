package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBrowserExercise runs an exercise from its plan to its report in a
// real browser: the Secretariat plans it with the form, adds an inject
// and releases it; Kenya's focal point acknowledges the inject twelve
// and a half minutes later; the report shows that time, and France still silent.
func TestBrowserExercise(t *testing.T) {
	t.Run("the Secretariat plans and releases, a participant acknowledges, the report shows the times", func(t *testing.T) {
		sys, srv := testkit.NewServed(t, testkit.Engines()[0])
		sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		fpFRA := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")
		sys.AddPoC(t, fpKEN.Ctx(), "KEN", testkit.ValidPoC())
		sys.AddPoC(t, fpFRA.Ctx(), "FRA", testkit.ValidPoC())
		now := sys.Clock.Now()
		b := newBrowser(t, srv.URL)
		b.login(sys, sec)
		b.open("/exercises")
		b.submit(`main a[href="/exercises/new"]`)
		b.wantPath("/exercises/new")
		b.fill("#f-name", "Exercise Blue Harbour")
		b.do("set the times", chromedp.SetValue(chromedp.CSS("#f-starts_at"), now.Format("2006-01-02T15:04")),
			chromedp.SetValue(chromedp.CSS("#f-ends_at"), now.Add(48*time.Hour).Format("2006-01-02T15:04")))
		b.do("list the participants", chromedp.SendKeys(chromedp.CSS("#f-technical"), "KEN, FRA"))
		b.submit(`main form.stack p.actions button[type=submit]`)
		b.wantPath("/exercises/1")
		wantContains(t, "the exercise's page", b.text("main"), "Exercise Blue Harbour", "Kenya", "France")

		b.do("choose the template", chromedp.SetValue(chromedp.CSS("#f-template"), "exercise"))
		b.fill("#f-subject", "Scenario: the port's cranes stopped")
		b.do("write the scenario", chromedp.SendKeys(chromedp.CSS("#f-description"), "Scenario text: acknowledge, then answer."))
		b.submit(`main form[action="/exercises/1/injects"] button[type=submit]`)
		b.wantPath("/exercises/1")
		b.submit(`main form[action="/exercises/1/injects/1/release"] button[type=submit]`)
		b.wantPath("/exercises/1")
		wantContains(t, "after the release", b.text("main"), "Released")

		sys.Clock.Advance(12 * time.Minute)
		b.logout()
		b.login(sys, fpKEN)
		b.open("/inbox")
		b.submit(`main a[href="/comms/1"]`)
		wantContains(t, "the inject as Kenya reads it", b.text("main"), "Scenario: the port's cranes stopped")
		b.submit(`main a[href="/comms/1/ack"]`)
		b.submit(`main form[action="/comms/1/ack"] button[type=submit]`)

		b.logout()
		b.login(sys, sec)
		b.open("/exercises/1/report")
		report := b.text("main")
		// The acknowledgement came twelve minutes after the inject, and
		// half a minute (a sign-in moves the test clock by 30 s): within
		// the 30-minute target. France has not acknowledged.
		wantContains(t, "the report", report, "Kenya", "France", "0:12:30", "acknowledged in time", "not acknowledged in time")
		b.screenshot("exercise-report-en.png", true)
	})
}
