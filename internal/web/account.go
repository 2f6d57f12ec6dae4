package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pocdir/pocdir/internal/account"
	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/notify"
)

var directoryFilterAll = directory.Filter{}

type accountData struct {
	Sessions  []*account.Session
	Tokens    []*account.Token
	Languages []langOption
	NewToken  string
	Passkeys  []*account.Passkey
	// Me is the reader's account (its second factors).
	Me *account.User
	// Zones are offered for the reader's time zone: their State's, then
	// UTC; StateZone is their State's default.
	Zones     []string
	StateZone string
	ZoneOther string
	// Prefs are how the reader hears of new work; Delegates who may stand
	// in for them; AwayDate their absence's last day, in their zone.
	Prefs     *account.Prefs
	Delegates []*account.User
	AwayDate  string
	Modes     []string
	// MaxKey is the longest OpenPGP key the account takes.
	MaxKey int
}

func (s *Server) accountData(r *http.Request, p *Page) (*accountData, error) {
	sessions, err := s.Accounts.Sessions(r.Context())
	if err != nil {
		return nil, err
	}
	tokens, err := s.Accounts.Tokens(r.Context())
	if err != nil {
		return nil, err
	}
	keys, err := s.Accounts.Passkeys(r.Context())
	if err != nil {
		return nil, err
	}
	me, err := s.Accounts.Me(r.Context())
	if err != nil {
		return nil, err
	}
	d := &accountData{Sessions: sessions, Tokens: tokens, Passkeys: keys, Me: me, MaxKey: notify.MaxPublicKey}
	for _, l := range s.Catalog.Languages() {
		d.Languages = append(d.Languages, langOption{Code: l, Name: p.LangName(l)})
	}
	d.StateZone = directory.DefaultZone(me.State)
	d.Zones = append(slices.Clone(directory.StateZones(me.State)), "UTC")
	if me.TimeZone != "" && !slices.Contains(d.Zones, me.TimeZone) {
		d.ZoneOther = me.TimeZone
	}
	// An observer is told of no communication or change: it has no
	// notification preferences.
	if me.Role == app.RoleObserver {
		return d, nil
	}
	if d.Prefs, err = s.Accounts.Prefs(r.Context()); err != nil {
		return nil, err
	}
	if d.Delegates, err = s.Accounts.Delegates(r.Context()); err != nil {
		return nil, err
	}
	if t := d.Prefs.AwayUntil; t != nil {
		if loc, err := zoneLoc(p.Zone()); err == nil {
			d.AwayDate = t.In(loc).Add(-time.Second).Format(time.DateOnly)
		}
	}
	d.Modes = []string{account.NotifyNone, account.NotifyEach, account.NotifyDigest}
	return d, nil
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, err error, newToken string) {
	p := s.page(r, "account.title", nil)
	d, derr := s.accountData(r, p)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	d.NewToken = newToken
	p.Data = d
	p.Script = s.static.js
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "account.html", p)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, nil, "")
}

func (s *Server) sessionRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "session")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.RevokeSession(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "account.session_revoked", "/account#sessions")
}

func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	days := atoi(r.PostForm.Get("expires"))
	if days != 90 && days != 365 {
		days = 90
	}
	t, err := s.Accounts.CreateToken(r.Context(), 0, r.PostForm.Get("name"), r.PostForm.Get("scope"), time.Duration(days)*24*time.Hour)
	if err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	// The secret is shown once, on this response only.
	s.renderAccount(w, r, http.StatusOK, nil, t.Secret)
}

func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "token")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.RevokeToken(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "account.token_revoked", "/account#tokens")
}

func (s *Server) passwordChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), r.PostForm.Get("current"), r.PostForm.Get("password")); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	s.done(w, r, "account.password_changed", "/account")
}

// timeZoneChange sets the zone the user reads times in: one of the list
// (empty for their State's), or typed as a city, a country or an IANA
// name.
func (s *Server) timeZoneChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	zone := r.PostForm.Get("time_zone")
	if other := strings.TrimSpace(r.PostForm.Get("time_zone_other")); other != "" {
		z, ok := directory.ResolveTimeZone(other)
		if !ok {
			s.renderAccount(w, r, http.StatusBadRequest, app.FieldError("time_zone", "error.time_zone", "not a time zone", nil), "")
			return
		}
		zone = z
	}
	if err := s.Accounts.SetTimeZone(r.Context(), zone); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	s.done(w, r, "account.time_zone_flash", "/account#time-zone")
}

// notificationsChange saves how the user hears of new work and whom their
// e-mails go to while they are away. The last day of an absence is a date
// in the user's zone: the absence ends at the next midnight there.
func (s *Server) notificationsChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 2<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := account.Prefs{Mode: f.Get("notify_new"), Delegate: f.Get("delegate")}
	if day := strings.TrimSpace(f.Get("away_until")); day != "" {
		loc, err := zoneLoc(s.page(r, "", nil).Zone())
		if err != nil {
			loc = time.UTC
		}
		d, err := time.ParseInLocation(time.DateOnly, day, loc)
		if err != nil {
			s.renderAccount(w, r, http.StatusBadRequest, app.FieldError("away_until", "error.away_until", "give a day within the coming year", nil), "")
			return
		}
		end := d.AddDate(0, 0, 1)
		in.AwayUntil = &end
	}
	if err := s.Accounts.SetPrefs(r.Context(), in); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	s.done(w, r, "account.notify_saved", "/account#notifications")
}
