package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestBrowserCommunicationExchange is two States exchanging a notification,
// its acknowledgement and a response, in a real browser, as their officers
// would.
func TestBrowserCommunicationExchange(t *testing.T) {
	sys, srv := testkit.NewServed(t, testkit.Engines()[0])
	commsWorld(t, sys)
	fra := sys.User(t, "officer@fra.example", app.RoleOfficer, "FRA")
	ken := sys.User(t, "officer@ken.example", app.RoleOfficer, "KEN")
	b := newBrowser(t, srv.URL)

	// France notifies Kenya.
	b.login(sys, fra)
	b.open("/comms")
	b.submit(`main a[href="/comms/new"]`)
	b.wantPath("/comms/new")
	b.submit(`main a[href="/comms/new?template=notification"]`)
	wantContains(t, "compose form", b.text("main"), "Notification of malicious activity", "does not imply that the State is responsible")
	b.do("open the African States", chromedp.Click(chromedp.CSS(`details:has(input[value=KEN]) summary`)))
	b.do("choose Kenya", chromedp.Click(chromedp.CSS(`input[name=to_states][value=KEN]`)))
	b.fill(`[id="f-fields.subject"]`, "Scanning of ministries from your address space")
	b.do("choose the urgency", chromedp.SetValue(chromedp.CSS(`[id="f-fields.urgency"]`), "high"))
	b.do("write the description", chromedp.SendKeys(chromedp.CSS(`[id="f-fields.description"]`), "Since 18 November, scanning followed by password spraying."))
	b.do("give the indicators", chromedp.SendKeys(chromedp.CSS(`[id="f-fields.indicators"]`), "198.51.100.23\nmail-update.example\nmalware: ExampleLoader"))
	b.submit(`main button[name=action][value=send]`)
	if !strings.HasSuffix(b.path(), "/confirm") {
		t.Fatalf("after sending: at %s, not the confirmation\n%s", b.path(), b.text("main"))
	}
	wantContains(t, "the confirmation", b.text("main"), "Nothing has been sent yet", "Kenya", "TLP:AMBER", "High urgency")
	b.submit(`main form[action$="/send"] button[type=submit]`)
	comm := b.path()
	wantContains(t, "the sent communication", b.text("main"), "Scanning of ministries", "TLP:AMBER", "198.51.100.23", "Notified", "Kenya")

	// Kenya finds it in its received communications, reads it, and
	// acknowledges on a screen that says this is not agreement.
	b.logout()
	b.login(sys, ken)
	b.open("/comms?box=in")
	wantContains(t, "Kenya's received communications", b.text("main"), "Scanning of ministries")
	b.submit(`main table a[href="` + comm + `"]`)
	wantContains(t, "Kenya reads", b.text("main"), "Since 18 November", "ExampleLoader", "Opened")
	b.submit(`main a[href="` + comm + `/ack"]`)
	wantContains(t, "acknowledgement screen", b.text("main"), "does not mean that your State agrees")
	b.submit(`main form button[type=submit]`)
	wantContains(t, "after acknowledging", b.text("main"), "Receipt acknowledged", "Acknowledged")

	// Kenya responds in the same thread.
	b.submit(`main a[href="/comms/new?parent=` + strings.TrimPrefix(comm, "/comms/") + `"]`)
	wantContains(t, "response form", b.text("main"), "In reply to")
	b.do("write the response", chromedp.SendKeys(chromedp.CSS(`[id="f-fields.description"]`), "The two hosts are blocked and the provider is notified."))
	b.submit(`main button[name=action][value=send]`)
	b.submit(`main form[action$="/send"] button[type=submit]`)
	wantContains(t, "the response", b.text("main"), "The two hosts are blocked", "France")

	// France sees Kenya's acknowledgement and response, and the thread.
	b.logout()
	b.login(sys, fra)
	b.open(comm)
	main := b.text("main")
	wantContains(t, "France's view", main, "Responded", "officer@ken.example", "acknowledged receipt (which does not mean agreement)", "responded")
	if n := b.count(`#h-thread ~ ol li a`); n < 1 {
		t.Errorf("the thread lists %d other communications", n)
	}
	b.screenshot("comm-en.png", true)
}

// TestBrowserPhoneArabicInboxAndCompose: on a 375 px phone, in Arabic, an
// officer composes a notification with its basic information, confirms and
// sends it; the recipient finds it in the inbox and acknowledges. Nothing
// overflows the screen sideways on the way.
func TestBrowserPhoneArabicInboxAndCompose(t *testing.T) {
	sys, srv := testkit.NewServed(t, testkit.Engines()[0])
	commsWorld(t, sys)
	fra := sys.User(t, "officer@fra.example", app.RoleOfficer, "FRA")
	ken := sys.User(t, "officer@ken.example", app.RoleOfficer, "KEN")
	b := newBrowser(t, srv.URL)
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 375, Height: 800, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	language := func(l string) {
		b.do("choose "+l, chromedp.SetValue(chromedp.CSS("#f-lang-switch"), l))
		b.submit(`footer form.lang-switch button[type=submit]`)
	}
	arabic := func() { language("ar") }
	b.login(sys, fra)
	arabic()
	b.open("/comms/new?template=notification")
	b.wantNoHorizontalScroll()
	wantContains(t, "the Arabic compose form", b.text("main"), "إخطار بنشاط خبيث", "القطاع المتأثر", "وقت الاكتشاف")
	b.do("open the African States", chromedp.Click(chromedp.CSS(`details:has(input[value=KEN]) summary`)))
	b.do("choose Kenya", chromedp.Click(chromedp.CSS(`input[name=to_states][value=KEN]`)))
	b.fill(`[id="f-fields.subject"]`, "Scanning of ministries")
	b.do("the sector", chromedp.SetValue(chromedp.CSS(`[id="f-fields.sector"]`), "government"))
	b.do("the time of detection", chromedp.SetValue(chromedp.CSS(`[id="f-fields.detected_at"]`), sys.Clock.Now().Add(-2*time.Hour).UTC().Format("2006-01-02T15:04")))
	b.do("write the description", chromedp.SendKeys(chromedp.CSS(`[id="f-fields.description"]`), "Scanning followed by password spraying."))
	b.submit(`main button[name=action][value=send]`)
	if !strings.HasSuffix(b.path(), "/confirm") {
		t.Fatalf("after sending: at %s\n%s", b.path(), b.text("main"))
	}
	b.wantNoHorizontalScroll()
	wantContains(t, "the Arabic confirmation", b.text("main"), "كينيا", "TLP:AMBER", "الناقل الأولي")
	b.submit(`main form[action$="/send"] button[type=submit]`)
	comm := b.path()
	wantContains(t, "the sent communication", b.text("main"), "الحكومة والإدارة العامة")

	language("en") // signing out says so in English, as the helper expects
	b.logout()
	b.login(sys, ken)
	arabic()
	b.open("/inbox")
	b.wantNoHorizontalScroll()
	b.screenshot("inbox-phone-ar.png", false)
	b.submit(`main a[href="` + comm + `"]`)
	b.wantNoHorizontalScroll()
	wantContains(t, "Kenya reads", b.text("main"), "Scanning of ministries", "القطاع المتأثر", "الحكومة والإدارة العامة")
	b.submit(`main a[href="` + comm + `/ack"]`)
	b.submit(`main form button[type=submit]`)
	b.open("/inbox")
	if n := b.count(`main a[href="` + comm + `"]`); n != 0 {
		t.Error("the acknowledged communication still waits in the inbox")
	}
}
