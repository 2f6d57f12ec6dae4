package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/system"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestDemoMailboxShowsEachUserTheirMail: in the demo, a State's users see
// the mail addressed to them and to their State's PoCs, the Secretariat
// all of it; and the mailbox is there again after a restart.
func TestDemoMailboxShowsEachUserTheirMail(t *testing.T) {
	catcher, err := notify.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	catcher.File = filepath.Join(t.TempDir(), "mailbox.jsonl")
	sys, srv := testkit.NewServed(t, testkit.Engines()[0], testkit.WithConfig(func(c *system.Config) {
		c.Demo, c.Catcher = true, catcher
		c.SMTP = notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir-demo@localhost", TLS: "none"}
	}))
	fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
	offFRA := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	sec := sys.User(t, "sec@un.example", app.RoleSecretariat, "")
	in := testkit.ValidPoC()
	in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert@ken.example", Preferred: true}}
	sys.AddPoC(t, fpKEN.Ctx(), "KEN", in)
	c, err := sys.Comms.Compose(offFRA.Ctx(), comms.CommInput{Template: "notification", ToStates: []string{"KEN"}, Level: comms.LevelTechnical,
		Fields: map[string]string{"subject": "Scanning", "urgency": "high", "tlp": comms.TLPAmber, "description": "Scanning from your space."}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Sender.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	sees := func(u *testkit.User) string {
		_, page := get(t, sys.Login(t, srv, u), srv.URL+"/demo/mail")
		return page
	}
	if page := sees(fpKEN); !strings.Contains(page, c.Ref) {
		t.Error("Kenya's focal point does not see the notification to Kenya's PoC")
	}
	if page := sees(offFRA); strings.Contains(page, c.Ref) || strings.Contains(page, "cert@ken.example") {
		t.Error("France's officer sees Kenya's mail")
	}
	if page := sees(sec); !strings.Contains(page, c.Ref) {
		t.Error("the Secretariat does not see all the mail")
	}
	again := &notify.Catcher{File: catcher.File}
	if err := again.Load(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range again.Messages() {
		found = found || strings.Contains(m.Subject, c.Ref)
	}
	if !found {
		t.Error("the mailbox is not kept across a restart")
	}
}
