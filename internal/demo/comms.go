package demo

import (
	"context"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/comms"
)

// SeedComms writes a few fictional exchanges between the demo States, so
// that each demo account finds communications at every stage: France's
// notification to Kenya, Brazil and Germany (Kenya acknowledges and
// responds, Brazil disputes the facts, Germany has not opened it), a
// request for information from Kenya to France waiting for France's answer,
// and a TLP:RED request for assistance from Brazil to France.
func SeedComms(ctx context.Context, svc *comms.Service, acc *account.Service) error {
	actor := func(email string) (context.Context, error) {
		u, err := acc.UserByEmail(app.WithActor(ctx, app.System), email)
		if err != nil {
			return nil, err
		}
		return app.WithActor(ctx, u.Actor()), nil
	}
	fra, err := actor("officer@fra.demo.pocdir.example")
	if err != nil {
		return err
	}
	ken, err := actor("focal.point@ken.demo.pocdir.example")
	if err != nil {
		return err
	}
	bra, err := actor("officer@bra.demo.pocdir.example")
	if err != nil {
		return err
	}
	by := func(d time.Duration) string { return svc.Now().Add(d).UTC().Format(time.RFC3339) }
	n, err := svc.Compose(fra, comms.CommInput{Template: "notification", ToStates: []string{"KEN", "BRA", "DEU"}, Level: comms.LevelTechnical,
		IdemKey: "demo-1", Fields: map[string]string{
			"subject": "Scanning and password spraying against ministries (fictional)", "urgency": "high", "tlp": comms.TLPAmber,
			"respond_by": by(72 * time.Hour),
			"description": "Since 18 November our national CERT has seen scanning of ministries' mail servers followed by password spraying, " +
				"from addresses that your national registries list. We share the indicators in good faith, to help stop the activity. (Demonstration data.)",
			"affected_systems": "Webmail of three ministries; no compromise confirmed.",
			"indicators":       "198.51.100.23\n203.0.113.0/28\nmail-update.example\nhxxps://login-verify[.]example/owa\nmalware: ExampleLoader\nAS64500\ntime: 2026-11-18T02:14:00Z",
		}})
	if err != nil {
		return err
	}
	if _, err := svc.Acknowledge(ken, n.ID); err != nil {
		return err
	}
	if _, err := svc.Compose(ken, comms.CommInput{ParentID: n.ID, IdemKey: "demo-2", Fields: map[string]string{
		"subject": "Re: scanning — addresses blocked (fictional)", "urgency": "medium", "tlp": comms.TLPAmber,
		"description": "Thank you. The two hosts belong to a hosting company; they are now blocked and the customer is notified. (Demonstration data.)"}}); err != nil {
		return err
	}
	if _, err := svc.Reply(bra, n.ID, comms.OutcomeDisputed, "The address 198.51.100.23 is not allocated in our country according to our registry. (Demonstration data.)"); err != nil {
		return err
	}
	if _, err := svc.Compose(ken, comms.CommInput{Template: "request-information", ToStates: []string{"FRA"}, Level: comms.LevelTechnical, IdemKey: "demo-3",
		Fields: map[string]string{"subject": "Phishing kit hosted in your space? (fictional)", "urgency": "medium", "tlp": comms.TLPGreen,
			"respond_by": by(48 * time.Hour), "questions": "Can you confirm whether the domain below is hosted in your country, and by whom?",
			"description": "A phishing kit imitating our revenue authority. (Demonstration data.)", "indicators": "revenue-refund.example\nhttps://revenue-refund.example/claim"}}); err != nil {
		return err
	}
	_, err = svc.Compose(bra, comms.CommInput{Template: "request-assistance", ToStates: []string{"FRA"}, Level: comms.LevelTechnical, IdemKey: "demo-4",
		Fields: map[string]string{"subject": "Assistance with ransomware at a hospital (fictional)", "urgency": "critical", "tlp": comms.TLPRed,
			"respond_by": by(24 * time.Hour), "description": "A hospital network is encrypted. (Demonstration data.)",
			"assistance_sought": "Analysis of the sample and contact with the hosting provider of the command server."}})
	return err
}
