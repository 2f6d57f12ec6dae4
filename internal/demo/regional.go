package demo

import (
	"context"
	"encoding/csv"
	"strings"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/regional"
)

// SeedRegional imports a fictional OSCE list: France's and Germany's PoCs
// as the OSCE knows them (one under the same address, one under another
// address of the same agency) and a contact pocdir does not know, from
// which France's focal point may nominate. Matching runs at once.
func SeedRegional(ctx context.Context, svc *regional.Service, dir *directory.Service) error {
	sec := app.WithActor(ctx, &app.Actor{Email: Accounts[0].Email, Role: app.RoleSecretariat})
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(regional.Columns)
	for i, code := range []string{"FRA", "DEU"} {
		e, err := dir.Get(sec, code)
		if err != nil {
			return err
		}
		if len(e.PoCs) == 0 {
			continue
		}
		agency, email := e.PoCs[0].Agency, e.PoCs[0].Email()
		if i == 1 {
			email = "osce-desk@" + strings.ToLower(code) + ".demo.pocdir.example"
		}
		w.Write([]string{"OSCE", code, "OSCE-" + code + "-1", agency, "Point of contact (fictional)", "technical", "email:" + email})
	}
	w.Write([]string{"OSCE", "FRA", "OSCE-FRA-2", "Cybercrime unit (fictional)", "Head of unit", "incident-reporting", "email:cybercrime@fra.demo.pocdir.example;phone:+33 1 00 00 00 00"})
	w.Flush()
	if _, err := svc.Import(sec, []byte(b.String())); err != nil {
		return err
	}
	for {
		n, err := svc.Step(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}
