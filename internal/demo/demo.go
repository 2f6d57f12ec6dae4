// Package demo seeds a database with fictional demonstration data: PoCs for
// a few dozen States and accounts for each role. Every name, address and
// number in it is invented and marked as fictional; none is a real person or
// office. The reference list of States is not demo data (see directory).
package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// Password is the password of every demo account.
const Password = "demo-password-2026"

// Account is a demo account with its second factor.
type Account struct {
	Email, Role, State, TOTPSecret string
	// Organisation is an observer's.
	Organisation string
}

// Accounts are the demo accounts. Their TOTP secrets are fixed so that the
// printed instructions stay valid across restarts of the demo.
var Accounts = []Account{
	{Email: "secretariat@demo.pocdir.example", Role: "secretariat", TOTPSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
	{Email: "secretariat2@demo.pocdir.example", Role: "secretariat", TOTPSecret: "NBSWY3DPO5XXE3DEMFZWK3TUNBSWY3DP"},
	{Email: "focal.point@fra.demo.pocdir.example", Role: "focal-point", State: "FRA", TOTPSecret: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"},
	{Email: "officer@fra.demo.pocdir.example", Role: "officer", State: "FRA", TOTPSecret: "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"},
	{Email: "focal.point@ken.demo.pocdir.example", Role: "focal-point", State: "KEN", TOTPSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	{Email: "officer@bra.demo.pocdir.example", Role: "officer", State: "BRA", TOTPSecret: "ONSWG4TFOQYTEMZUONSWG4TFOQYTEMZU"},
	// An observer, granted the entries of the OSCE's participating States
	// and the capacity-building offers (ObserverBody).
	{Email: "observer@osce.demo.pocdir.example", Role: "observer", Organisation: "OSCE Secretariat (fictional)", TOTPSecret: "MJQXGZLSOZSXEMJQMJQXGZLSOZSXEMJQ"},
}

// ObserverBody is the regional body whose members' entries the demo
// observer reads.
const ObserverBody = "OSCE"

type demoState struct {
	code, lang, tz string
	h247           bool
}

// states are the States that get fictional PoCs, across every UN regional
// group and working language.
var states = []demoState{
	{"ARG", "es", "America/Argentina/Buenos_Aires", true}, {"AUS", "en", "Australia/Sydney", true},
	{"BRA", "pt", "America/Sao_Paulo", true}, {"CAN", "en", "America/Toronto", true},
	{"CHL", "es", "America/Santiago", false}, {"CHN", "zh", "Asia/Shanghai", true},
	{"COL", "es", "America/Bogota", false}, {"DEU", "de", "Europe/Berlin", true},
	{"EGY", "ar", "Africa/Cairo", false}, {"ESP", "es", "Europe/Madrid", true},
	{"EST", "et", "Europe/Tallinn", true}, {"FRA", "fr", "Europe/Paris", true},
	{"GHA", "en", "Africa/Accra", false}, {"IDN", "id", "Asia/Jakarta", true},
	{"IND", "hi", "Asia/Kolkata", true}, {"IRN", "fa", "Asia/Tehran", false},
	{"JPN", "ja", "Asia/Tokyo", true}, {"JOR", "ar", "Asia/Amman", false},
	{"KAZ", "ru", "Asia/Almaty", true}, {"KEN", "sw", "Africa/Nairobi", true},
	{"KOR", "ko", "Asia/Seoul", true}, {"MAR", "ar", "Africa/Casablanca", false},
	{"MEX", "es", "America/Mexico_City", true}, {"MYS", "ms", "Asia/Kuala_Lumpur", false},
	{"NGA", "en", "Africa/Lagos", true}, {"NLD", "nl", "Europe/Amsterdam", true},
	{"PER", "es", "America/Lima", false}, {"POL", "pl", "Europe/Warsaw", true},
	{"QAT", "ar", "Asia/Qatar", true}, {"RUS", "ru", "Europe/Moscow", true},
	{"SEN", "fr", "Africa/Dakar", false}, {"SGP", "en", "Asia/Singapore", true},
	{"URY", "es", "America/Montevideo", false}, {"USA", "en", "America/New_York", true},
	{"VNM", "vi", "Asia/Ho_Chi_Minh", false}, {"ZAF", "en", "Africa/Johannesburg", true},
}

// unLang maps a working language to the UN language the demo writes its
// notes in (English where the State works in none of the six).
func unLang(l string) string {
	switch l {
	case "ar", "es", "fr", "ru", "zh":
		return l
	}
	return "en"
}

var notes = map[string]string{
	"ar": "جهة اتصال وهمية لأغراض العرض فقط.",
	"es": "Punto de contacto ficticio, solo para demostración.",
	"fr": "Point de contact fictif, à des fins de démonstration uniquement.",
	"ru": "Вымышленный контактный пункт, только для демонстрации.",
	"zh": "虚构的联络点，仅供演示。",
}

// Seeded reports whether the database already holds the demo data.
func Seeded(ctx context.Context, acc *account.Service) (bool, error) {
	_, err := acc.UserByEmail(app.WithActor(ctx, app.System), Accounts[0].Email)
	if app.ErrorCode(err) == app.NotFound {
		return false, nil
	}
	return err == nil, err
}

// Seed writes the demo accounts and PoCs through the services, so that the
// demo data passes the same validation and leaves the same history as real
// data.
//
// With full set, every UN Member State gets four fictional PoCs, as the
// directory will hold in service: the data set of the load measurements.
func Seed(ctx context.Context, dir *directory.Service, acc *account.Service, full bool) error {
	sys := app.WithActor(ctx, app.System)
	users := map[string]*account.User{}
	for _, a := range Accounts {
		name := "Demo " + strings.ReplaceAll(a.Role, "-", " ")
		if a.State != "" {
			name += " (" + a.State + ")"
		}
		u, err := acc.CreateUser(sys, account.InviteInput{Email: a.Email, Name: name + " — fictional", Role: app.Role(a.Role), State: a.State,
			Organisation: a.Organisation}, Password)
		if err != nil {
			return fmt.Errorf("demo account %s: %w", a.Email, err)
		}
		users[a.Email] = u
		if err := acc.SetTOTPSecret(sys, u.ID, a.TOTPSecret); err != nil {
			return err
		}
	}
	list := states
	if full {
		ref, err := directory.ReferenceStates()
		if err != nil {
			return err
		}
		known := map[string]demoState{}
		for _, s := range states {
			known[s.code] = s
		}
		list = nil
		for _, r := range ref {
			if r.Status != "member" {
				continue
			}
			s, ok := known[r.Code]
			if !ok {
				s = demoState{code: r.Code, lang: "en", tz: "UTC", h247: len(list)%2 == 0}
			}
			list = append(list, s)
		}
	}
	// Changes are proposed as the State's focal point would, and validated
	// as the Secretariat would, under a (fictional) note verbale.
	sec := app.WithActor(ctx, &app.Actor{Email: "demo-data@secretariat.demo.pocdir.example", Role: app.RoleSecretariat})
	validate := func(n *directory.Nomination, err error) error {
		if err != nil {
			return err
		}
		_, err = dir.ValidateNomination(sec, n.ID, directory.Decision{Version: n.Version,
			Reference: fmt.Sprintf("Note verbale No. %d/%d (fictional)", 100+n.ID, dir.Now().Year())})
		return err
	}
	for i, s := range list {
		fp := app.WithActor(ctx, &app.Actor{Email: "demo-data@pocdir.example", Role: app.RoleFocalPoint, State: s.code})
		entry, err := dir.Get(fp, s.code)
		if err != nil {
			return err
		}
		name := entry.Name
		lc := strings.ToLower(s.code)
		langs := []string{s.lang}
		if s.lang != "en" {
			langs = append(langs, "en")
		}
		ul := unLang(s.lang)
		var note directory.Text
		if ul != "en" {
			note = directory.Text{Lang: ul, Text: notes[ul], English: "Fictional point of contact, for demonstration only."}
		} else {
			note = directory.Text{Lang: "en", Text: "Fictional point of contact, for demonstration only."}
		}
		tech := directory.PoCInput{
			Level: directory.LevelTechnical, Agency: "National CERT of " + name + " (fictional)", FunctionTitle: "Incident response duty desk",
			Channels: []directory.Channel{
				{Kind: directory.ChannelEmail, Value: "cert@" + lc + ".demo.pocdir.example", Preferred: true},
				{Kind: directory.ChannelPhone, Value: fmt.Sprintf("+999 %03d 0100", i)},
			},
			Languages: langs, TimeZone: s.tz, Available247: s.h247, Notes: note,
		}
		if !s.h247 {
			tech.Hours = "mon-fri 08:00-18:00"
		}
		dipl := directory.PoCInput{
			Level: directory.LevelDiplomatic, Agency: "Ministry of Foreign Affairs of " + name + " (fictional)", FunctionTitle: "Cyber diplomacy desk",
			Channels: []directory.Channel{
				{Kind: directory.ChannelEmail, Value: "cyber.desk@mfa." + lc + ".demo.pocdir.example", Preferred: true},
				{Kind: directory.ChannelPhone, Value: fmt.Sprintf("+999 %03d 0200", i)},
				{Kind: directory.ChannelDiplomatic, Value: "Note verbale through the Permanent Mission in New York (fictional)"},
			},
			Languages: langs, TimeZone: s.tz, Hours: "mon-fri 09:00-17:00",
		}
		// A few changes were notified more than 30 days after they took
		// effect, as happens.
		if i%7 == 3 {
			tech.EffectiveDate = dir.Now().AddDate(0, 0, -45).Format("2006-01-02")
		}
		for _, in := range []directory.PoCInput{tech, dipl} {
			if err := validate(dir.ProposePoC(fp, s.code, in)); err != nil {
				return fmt.Errorf("demo PoC for %s: %w", s.code, err)
			}
		}
		if i%3 == 0 || full {
			alt := tech
			alt.Alternate = true
			alt.Agency = "National CERT of " + name + " — alternate (fictional)"
			alt.Channels = []directory.Channel{{Kind: directory.ChannelEmail, Value: "cert-alt@" + lc + ".demo.pocdir.example", Preferred: true}}
			if err := validate(dir.ProposePoC(fp, s.code, alt)); err != nil {
				return fmt.Errorf("demo PoC for %s: %w", s.code, err)
			}
		}
		if full {
			pol := dipl
			pol.Level = directory.LevelPolicy
			pol.Agency = "National cyber policy office of " + name + " (fictional)"
			if err := validate(dir.ProposePoC(fp, s.code, pol)); err != nil {
				return fmt.Errorf("demo PoC for %s: %w", s.code, err)
			}
		}
		// States nominated over the past two years, so that the dashboard's
		// chart has a history; most reconfirmed since. Some entries are
		// shown due soon or stale, as real ones will be.
		first := dir.Now().AddDate(0, 0, -(700 - (i*19)%680))
		confirmed := dir.Now().AddDate(0, 0, -((i * 23) % 300))
		last := &confirmed
		if age := map[int]int{1: 340, 5: 400, 9: 380}[i]; age > 0 && !full {
			first, last = dir.Now().AddDate(0, 0, -age), nil
		}
		if err := dir.Backdate(sys, s.code, first, last); err != nil {
			return err
		}
		if i%4 == 0 {
			e, err := dir.Get(fp, s.code)
			if err != nil {
				return err
			}
			if err := validate(dir.ProposeEntryUpdate(fp, s.code, directory.EntryInput{Version: e.Version,
				InitiateVia: "Initiate through the technical PoC; diplomatic PoC in copy (fictional)"})); err != nil {
				return err
			}
		}
	}
	if err := pending(ctx, dir); err != nil {
		return err
	}
	if err := grantObserver(ctx, dir, acc, users); err != nil {
		return err
	}
	return fourEyes(ctx, dir, acc)
}

// grantObserver has the first Secretariat officer propose, and the second
// approve, the demo observer's grant: the entries of ObserverBody's
// members, and the capacity-building offers.
func grantObserver(ctx context.Context, dir *directory.Service, acc *account.Service, users map[string]*account.User) error {
	sec, sec2 := users[Accounts[0].Email].Actor(), users[Accounts[1].Email].Actor()
	members, err := dir.List(app.WithActor(ctx, sec), directory.Filter{Body: ObserverBody})
	if err != nil {
		return err
	}
	in := account.GrantInput{Offers: true}
	for _, m := range members {
		in.States = append(in.States, m.Code)
	}
	for _, a := range Accounts {
		if a.Role != string(app.RoleObserver) {
			continue
		}
		g, err := acc.ProposeGrant(app.WithActor(ctx, sec), users[a.Email].ID, in)
		if err != nil {
			return fmt.Errorf("demo observer's grant: %w", err)
		}
		if _, err := acc.ApproveGrant(app.WithActor(ctx, sec2), g.ID); err != nil {
			return fmt.Errorf("demo observer's grant: %w", err)
		}
	}
	return nil
}

// fourEyes leaves steps for a second person to try: a PoC the Secretariat
// proposed for Kenya on its (fictional) written request, waiting for the
// confirmation of Kenya's focal point; one for Argentina, which has no
// focal point, waiting for a second officer; and an invitation of an
// officer of Kenya, waiting for Kenya's approval.
func fourEyes(ctx context.Context, dir *directory.Service, acc *account.Service) error {
	u, err := acc.UserByEmail(app.WithActor(ctx, app.System), Accounts[0].Email)
	if err != nil {
		return err
	}
	sec := app.WithActor(ctx, u.Actor())
	for _, st := range []struct{ code, ref string }{
		{"KEN", "Letter of the Permanent Mission of Kenya No. KE/2026/044 (fictional)"},
		{"ARG", "Note verbale of the Permanent Mission of Argentina No. 211/2026 (fictional)"},
	} {
		lc := strings.ToLower(st.code)
		in := directory.PoCInput{Level: directory.LevelPolicy, Agency: "National cybersecurity agency — policy office (fictional)",
			Channels:  []directory.Channel{{Kind: directory.ChannelEmail, Value: "policy@" + lc + ".demo.pocdir.example", Preferred: true}},
			Languages: []string{"en"}, TimeZone: "UTC", Hours: "mon-fri 09:00-17:00", Submission: directory.Submission{RequestRef: st.ref}}
		if _, err := dir.ProposePoC(sec, st.code, in); err != nil {
			return fmt.Errorf("demo nomination on request: %w", err)
		}
	}
	_, err = acc.Invite(sec, account.InviteInput{Email: "new.officer@ken.demo.pocdir.example", Name: "New officer of Kenya (fictional)",
		Role: app.RoleOfficer, State: "KEN"})
	return err
}

// pending leaves France's focal point with changes in each state of the
// workflow: one waiting for the Secretariat, one returned, one draft.
func pending(ctx context.Context, dir *directory.Service) error {
	fp := app.WithActor(ctx, &app.Actor{Email: Accounts[2].Email, Role: app.RoleFocalPoint, State: "FRA"})
	sec := app.WithActor(ctx, &app.Actor{Email: Accounts[0].Email, Role: app.RoleSecretariat})
	e, err := dir.Get(fp, "FRA")
	if err != nil || len(e.PoCs) < 2 {
		return err
	}
	legal := directory.PoCInput{Level: directory.LevelLegal, Agency: "Ministry of Justice of France — cybercrime unit (fictional)",
		Channels:  []directory.Channel{{Kind: directory.ChannelEmail, Value: "cyber.legal@fra.demo.pocdir.example", Preferred: true}},
		Languages: []string{"fr", "en"}, TimeZone: "Europe/Paris", Hours: "mon-fri 09:00-18:00"}
	if _, err := dir.ProposePoC(fp, "FRA", legal); err != nil {
		return fmt.Errorf("demo nomination: %w", err)
	}
	tech := e.PoCs[0]
	in := directory.PoCInput{Level: tech.Level, Alternate: tech.Alternate, Agency: tech.Agency, FunctionTitle: "Head of the incident response desk",
		PersonName: tech.PersonName, Channels: tech.Channels, Languages: tech.Languages, TimeZone: tech.TimeZone, Available247: tech.Available247,
		WorkingHours: tech.WorkingHours, Hours: tech.Hours, Notes: tech.Notes, RegionalRefs: tech.RegionalRefs, Version: tech.Version}
	n, err := dir.ProposePoCUpdate(fp, tech.ID, in)
	if err != nil {
		return fmt.Errorf("demo nomination: %w", err)
	}
	if _, err := dir.ReturnNomination(sec, n.ID, directory.Decision{Version: n.Version,
		Reason: "Please send the note verbale that confirms the new function (fictional)."}); err != nil {
		return err
	}
	other := e.PoCs[1]
	_, err = dir.ProposePoCRemoval(fp, other.ID, directory.RemovalInput{Version: other.Version,
		EffectiveDate: dir.Now().AddDate(0, 0, 40).Format("2006-01-02"), Submission: directory.Submission{Draft: true}})
	return err
}
