package web

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/offline"
)

// offlineCopyData is what the offline copy page offers: a passphrase, or
// the key of one of the user's State's PoCs that have one.
type offlineCopyData struct {
	Min  int
	PoCs []*directory.PoC
	Key  string // the log's public key, to verify the copy
	// Mine is the fingerprint of the user's own key, offered first when
	// they set one on their account.
	Mine string
	// Mailing, for a focal point, is whether their State's PoCs receive
	// fresh copies by e-mail, and which will not.
	Mailing *offline.Mailing
}

func (s *Server) offlineCopyPage(w http.ResponseWriter, r *http.Request) {
	s.renderOfflineCopy(w, r, http.StatusOK, nil)
}

func (s *Server) renderOfflineCopy(w http.ResponseWriter, r *http.Request, status int, err error) {
	p := s.page(r, "offline.page_title", nil)
	if !offline.CanCopy(p.Actor) {
		s.fail(w, r, app.ErrForbidden())
		return
	}
	d := offlineCopyData{Min: offline.MinPassphrase, Key: s.Audit.VerifierKey}
	if p.Actor != nil {
		me, merr := s.Accounts.Me(r.Context())
		if merr != nil {
			s.fail(w, r, merr)
			return
		}
		d.Mine = me.OpenPGPFingerprint
	}
	if p.Actor != nil && p.Actor.State != "" {
		e, gerr := s.Directory.Get(r.Context(), p.Actor.State)
		if gerr != nil {
			s.fail(w, r, gerr)
			return
		}
		for _, poc := range e.PoCs {
			if poc.PGPKey != "" {
				d.PoCs = append(d.PoCs, poc)
			}
		}
	}
	if p.Actor != nil && p.Actor.IsFocalPointOf(p.Actor.State) {
		m, merr := s.Offline.Mailing(r.Context(), p.Actor.State)
		if merr != nil {
			s.fail(w, r, merr)
			return
		}
		d.Mailing = m
	}
	p.Data = d
	if err != nil {
		p.withError(err)
	}
	s.render(w, r, status, "offline_copy.html", p)
}

// offlineCopyDownload makes the user's offline copy, encrypted to their own
// key, under the passphrase they gave or to the key of the PoC they chose,
// and sends it.
func (s *Server) offlineCopyDownload(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	to := offline.Recipient{Passphrase: []byte(r.PostForm.Get("passphrase"))}
	if r.PostForm.Get("to") == "mine" {
		to = offline.Recipient{Mine: true}
	} else if v := r.PostForm.Get("poc"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.renderOfflineCopy(w, r, http.StatusBadRequest, app.FieldError("poc", "error.offline_no_key", "choose a PoC with an OpenPGP key", nil))
			return
		}
		to = offline.Recipient{PoC: id}
	}
	f, err := s.Offline.Copy(r.Context(), to)
	if app.ErrorCode(err) == app.Invalid {
		s.renderOfflineCopy(w, r, s.errorStatus(r, err), err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Serve(w)
}

// offlineMailChange turns on or off the fresh copies by e-mail to the
// focal point's State's PoCs.
func (s *Server) offlineMailChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	state := ""
	if a := app.ActorFrom(r.Context()); a != nil {
		state = a.State
	}
	on := r.PostForm.Get("on") == "1"
	if err := s.Offline.SetMailing(r.Context(), state, on); err != nil {
		s.fail(w, r, err)
		return
	}
	key := "offline.by_mail_stopped"
	if on {
		key = "offline.by_mail_started"
	}
	s.done(w, r, key, "/offline-copy#by-mail")
}
