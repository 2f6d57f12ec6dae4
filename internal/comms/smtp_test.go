package comms_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/gopenpgp/v3/crypto"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestNotificationsOverSMTP sends a communication to two PoCs, one with an
// OpenPGP key, through the outbox to a real SMTP server: the PoC without a
// key gets a reference and a link, the one with a key gets the content
// encrypted to it and signed by pocdir, as PGP/MIME. A TLP:RED
// communication carries no content even to the key. Delivery shows on the
// tracking lines.
func TestNotificationsOverSMTP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		signer := sys.PGP
		priv, err := crypto.PGP().KeyGeneration().AddUserId("KEN CERT", "cert@ken.example").GenerationTime(sys.Clock.Now().Add(-time.Hour).Unix()).New().GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := priv.GetArmoredPublicKey()
		if err != nil {
			t.Fatal(err)
		}
		fpKEN := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		fpDEU := sys.User(t, "fp@deu.example", app.RoleFocalPoint, "DEU")
		off := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
		for _, p := range []struct {
			u     *testkit.User
			email string
			key   string
		}{{fpKEN, "cert@ken.example", pub}, {fpDEU, "cert@deu.example", ""}} {
			in := testkit.ValidPoC()
			in.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: p.email, Preferred: true}}
			in.PGPKey = p.key
			sys.AddPoC(t, p.u.Ctx(), p.u.State, in)
		}
		catcher, err := notify.StartCatcher("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { catcher.Close() })
		sender := &notify.Sender{DB: sys.DB, Now: sys.Clock.Now, SMTP: notify.SMTP{Host: "127.0.0.1", Port: catcher.Port(), From: "pocdir@example.org", TLS: "none"}}

		// Kenya's own sector of critical information infrastructure, which
		// the notification names.
		if _, err := sys.CII.Publish(fpKEN.Ctx(), "KEN", cii.Input{Sectors: []cii.Sector{{Key: "energy"},
			{Name: directory.Text{Lang: "fr", Text: "Oléoducs", English: "Pipelines"}}}}); err != nil {
			t.Fatal(err)
		}
		in := comms.CommInput{Template: "notification", ToStates: []string{"KEN", "DEU"}, Level: comms.LevelTechnical, Fields: map[string]string{
			"subject": "Wiper against the grid", "urgency": "critical", "tlp": comms.TLPAmber, "description": "Destructive activity since 02:00 UTC.",
			"indicators": "198.51.100.7\nmalware: ExampleWiper", "sector": "KEN:own-1", "vector": "phishing", "detected_at": sys.Clock.Now().Add(-3 * time.Hour).UTC().Format("2006-01-02T15:04")}}
		c, err := sys.Comms.Compose(off.Ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		red := in
		red.Fields = map[string]string{"subject": "Red matter", "urgency": "high", "tlp": comms.TLPRed, "description": "Names of the victims."}
		red.ToStates = []string{"KEN"}
		rc, err := sys.Comms.Compose(off.Ctx(), red)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sender.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		// By address and reference: the sender's connections deliver in
		// no set order.
		got := map[string][]notify.Caught{}
		for _, m := range catcher.Messages() {
			if strings.Contains(m.Subject, rc.Ref) {
				got[m.To[0]] = append(got[m.To[0]], m)
			} else {
				got[m.To[0]] = append([]notify.Caught{m}, got[m.To[0]]...)
			}
		}
		t.Run("without a key: a reference, the TLP label in the subject and a link, no content", func(t *testing.T) {
			m := got["cert@deu.example"][0]
			if !strings.Contains(string(m.Raw), "[TLP:AMBER] "+c.Ref) || !strings.Contains(m.Body, "/comms/") {
				t.Errorf("%s", string(m.Raw))
			}
			for _, secret := range []string{"Wiper against", "198.51.100.7", "ExampleWiper", "Destructive"} {
				if strings.Contains(string(m.Raw), secret) {
					t.Errorf("the email holds %q", secret)
				}
			}
		})
		t.Run("with a key: PGP/MIME that the PoC decrypts, signed by pocdir", func(t *testing.T) {
			m := got["cert@ken.example"][0]
			msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
			if err != nil {
				t.Fatal(err)
			}
			mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if mt != "multipart/encrypted" || params["protocol"] != "application/pgp-encrypted" {
				t.Fatalf("Content-Type %s", msg.Header.Get("Content-Type"))
			}
			r := multipart.NewReader(msg.Body, params["boundary"])
			if _, err := r.NextPart(); err != nil {
				t.Fatal(err)
			}
			p, err := r.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			armored, _ := io.ReadAll(p)
			for _, secret := range []string{"Wiper against", "198.51.100.7"} {
				if strings.Contains(string(m.Raw), secret) {
					t.Errorf("the encrypted email holds %q in clear", secret)
				}
			}
			signerKey, err := crypto.NewKeyFromArmored(signer.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			dec, err := crypto.PGP().Decryption().DecryptionKey(priv).VerificationKey(signerKey).New()
			if err != nil {
				t.Fatal(err)
			}
			res, err := dec.Decrypt(armored, crypto.Armor)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.SignatureError(); err != nil {
				t.Errorf("signature: %v", err)
			}
			inner, err := mail.ReadMessage(bytes.NewReader(res.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var ib io.Reader = inner.Body
			if strings.EqualFold(inner.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
				ib = quotedprintable.NewReader(ib)
			}
			body, _ := io.ReadAll(ib)
			text := string(body)
			detected := sys.Clock.Now().Add(-3*time.Hour).UTC().Format("2006-01-02 15:04") + " UTC"
			if strings.Contains(text, "sector:name") {
				t.Errorf("the own sector's name is shown twice:\n%s", text)
			}
			for _, want := range []string{"Wiper against the grid", "198.51.100.7", "ExampleWiper", "does not imply", "Affected sector:\nOléoducs / Pipelines", "Initial vector:\nPhishing or social engineering", "Time of detection:\n" + detected} {
				if !strings.Contains(text, want) && !strings.Contains(strings.ReplaceAll(strings.ReplaceAll(text, "=\r\n", ""), "\r\n", "\n"), want) {
					t.Errorf("the decrypted content lacks %q:\n%s", want, text)
				}
			}
		})
		t.Run("TLP:RED content never goes by email, even to a key", func(t *testing.T) {
			if len(got["cert@ken.example"]) != 2 {
				t.Fatalf("%d emails", len(got["cert@ken.example"]))
			}
			m := got["cert@ken.example"][1]
			if !strings.Contains(string(m.Raw), "[TLP:RED]") || strings.Contains(string(m.Raw), "multipart/encrypted") || strings.Contains(string(m.Raw), "victims") {
				t.Errorf("%s", string(m.Raw))
			}
		})
		t.Run("delivery shows on the tracking lines, encrypted or not", func(t *testing.T) {
			sys.Clock.Advance(time.Second)
			if _, err := sys.Comms.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := sys.Comms.Communication(off.Ctx(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got.Recipients {
				if r.Stage() != "delivered" || r.Encrypted != (r.State == "KEN") {
					t.Errorf("%s: %s encrypted=%v", r.State, r.Stage(), r.Encrypted)
				}
			}
			// Each delivery is in the accountability log, for both States.
			entries, err := sys.Audit.Entries(off.Ctx(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			delivered := 0
			for _, e := range entries {
				if e.Type == "comms.delivered" && strings.HasPrefix(e.Object, "comm:"+c.Ref+"/") {
					delivered++
				}
			}
			if delivered != len(got.Recipients) {
				t.Errorf("%d deliveries logged for %d lines", delivered, len(got.Recipients))
			}
		})
	})
}
