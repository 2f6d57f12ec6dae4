package api

import (
	"net/http"
	"strconv"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/offline"
)

// passphraseHeader carries the passphrase of an offline copy: a header, not
// the query, so that it stays out of the addresses that logs and proxies
// keep.
const passphraseHeader = "Offline-Copy-Passphrase"

// offlineCopy sends the caller's offline copy of the directory, encrypted
// to the OpenPGP key of the PoC that ?poc= names, under the passphrase of
// the Offline-Copy-Passphrase header, or (?to=mine, and by default when the
// caller set one) to the key on the caller's own account.
func (a *API) offlineCopy(w http.ResponseWriter, r *http.Request) {
	to := offline.Recipient{Passphrase: []byte(r.Header.Get(passphraseHeader))}
	if v := r.URL.Query().Get("poc"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			a.fail(w, r, app.FieldError("poc", "error.offline_no_key", "poc must be a PoC's id", nil))
			return
		}
		to = offline.Recipient{PoC: id}
	}
	if r.URL.Query().Get("to") == "mine" || to.PoC == 0 && len(to.Passphrase) == 0 {
		// Without a PoC or a passphrase, the caller's own key, when they set
		// one on their account.
		key, err := a.Accounts.OpenPGPKey(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if key != "" || r.URL.Query().Get("to") == "mine" {
			to = offline.Recipient{Mine: true}
		}
	}
	f, err := a.Offline.Copy(r.Context(), to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f.Serve(w)
}
