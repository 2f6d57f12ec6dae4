package web_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// waitFor waits until the page is at path and holds an element matching
// sel, as after a script's navigation.
func (b *browser) waitFor(path, sel string) {
	b.t.Helper()
	for i := 0; i < 100; i++ {
		if b.path() == path && b.count(sel) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("waited for %s at %s; at %s:\n%s", sel, path, b.path(), b.text("body"))
}

// TestPasskeyInTheBrowser registers a passkey in chromium's virtual
// authenticator from the account page, and signs in with it after the
// password; then makes the account accept passkeys only.
func TestPasskeyInTheBrowser(t *testing.T) {
	chromiumPath(t)
	// WebAuthn needs a domain name, not an address: the browser goes to
	// localhost, and pocdir knows itself by that name.
	srv := httptest.NewUnstartedServer(nil)
	base := fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	sys := testkit.New(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) { c.BaseURL = base }))
	srv.Config.Handler = sys.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	u := sys.User(t, "fp@fra.example", app.RoleFocalPoint, "FRA")

	b := newBrowser(t, base)
	b.open("/login")
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	auth, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatal(err)
	}

	b.login(sys, u)
	b.open("/account")
	if got := b.text("#passkeys ~ .table-wrap tbody"); !strings.Contains(got, "No passkey yet.") {
		t.Fatalf("the passkeys: %q", got)
	}
	b.fill("#f-passkey_name", "Work laptop")
	b.do("add a passkey", chromedp.Click(chromedp.CSS(`form[data-passkey="register"] button[type=submit]`)))
	b.waitFor("/account", `form[action^="/account/passkeys/"][action$="/remove"]`)
	wantContains(t, "the account page", b.text("main"), "The passkey is added.", "Work laptop")
	creds, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams(auth))
	if err != nil || len(creds.Credentials) != 1 || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("the authenticator holds %+v (%v)", creds, err)
	}

	b.logout()
	b.fill("#f-email", u.Email)
	b.fill("#f-password", testkit.Password)
	b.submit(`main form[action="/login"] button[type=submit]`)
	b.wantPath("/login/totp")
	wantContains(t, "the second factor page", b.text("main"), "Use a passkey", "Or enter a code")
	b.do("use the passkey", chromedp.Click(chromedp.CSS(`form[data-passkey="login"] button[type=submit]`)))
	b.waitFor("/inbox", "footer")
	wantContains(t, "the footer after signing in with the passkey", b.text("footer"), u.Email)

	b.open("/account")
	b.submit(`form[action="/account/passkeys-only"] button[type=submit]`)
	wantContains(t, "the account page", b.text("main"), "Your account now accepts passkeys only.")
	b.logout()
	b.fill("#f-email", u.Email)
	b.fill("#f-password", testkit.Password)
	b.submit(`main form[action="/login"] button[type=submit]`)
	b.wantPath("/login/totp")
	if n := b.count("#f-code"); n != 0 {
		t.Error("a passkeys-only account is offered the code field")
	}
	b.do("use the passkey", chromedp.Click(chromedp.CSS(`form[data-passkey="login"] button[type=submit]`)))
	b.waitFor("/inbox", "footer")
}
