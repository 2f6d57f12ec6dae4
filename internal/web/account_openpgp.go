package web

import (
	"net/http"

	"github.com/pocdir/pocdir/internal/notify"
)

// openPGPKeyChange sets, replaces or (with "remove") removes the user's
// own OpenPGP key, to which their offline copy is encrypted.
func (s *Server) openPGPKeyChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, notify.MaxPublicKey+4<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	key := r.PostForm.Get("openpgp_key")
	if r.PostForm.Get("remove") != "" {
		key = ""
	}
	if _, err := s.Accounts.SetOpenPGPKey(r.Context(), key); err != nil {
		s.renderAccount(w, r, s.errorStatus(r, err), err, "")
		return
	}
	if key == "" {
		s.done(w, r, "account.openpgp_removed", "/account#openpgp")
		return
	}
	s.done(w, r, "account.openpgp_saved", "/account#openpgp")
}
