package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/testkit"
)

// TestExportsHoldOnlyWhatTheCallerMayRead tries to get, through every
// export, what the directory keeps from some callers: a nomination that is
// proposed (or a draft) and not validated, which only the State's own users
// and the Secretariat see, and nobody in a download.
func TestExportsHoldOnlyWhatTheCallerMayRead(t *testing.T) {
	t.Parallel()
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		f := newFixture(t, e)
		id := f.newPoC(t)
		submitted, draft := f.nomination(t, false), f.nomination(t, true)
		paths := []string{"/api/v1/export/directory?format=csv", "/api/v1/export/directory?format=json", "/api/v1/export/directory?format=vcard",
			"/api/v1/export/directory?format=json&q=" + stateA, "/api/v1/states/" + stateA + "/export?format=csv",
			"/api/v1/states/" + stateA + "/export?format=json", "/api/v1/states/" + stateA + "/export?format=vcard", fmt.Sprintf("/api/v1/pocs/%d/vcard", id),
			"/api/v1/export/directory?format=pdf&q=" + stateA, "/api/v1/states/" + stateA + "/export?format=pdf"}
		// Members download; an observer takes no copy (the authorization
		// table checks that it is refused).
		for caller := secretariat; caller < nCallers; caller++ {
			if caller == observerA {
				continue
			}
			for _, p := range paths {
				t.Run(callerNames[caller]+" downloads "+p+" without what is not validated", func(t *testing.T) {
					r := f.do(t, "GET", p, f.token(caller), nil)
					if r.Status != 200 {
						t.Fatalf("status %d: %s", r.Status, r.Body)
					}
					body := string(r.Body)
					if strings.Contains(p, "format=pdf") {
						if ct := r.Header.Get("Content-Type"); ct != "application/pdf" {
							t.Errorf("Content-Type %q", ct)
						}
						body = testkit.PDFText(t, r.Body)
					}
					for _, n := range []string{submitted.PoC.Agency, draft.PoC.Agency} {
						if n == "" {
							t.Fatal("the nominations have no agency to look for")
						}
						if strings.Contains(body, n) {
							t.Errorf("the export holds %q, which is only proposed", n)
						}
					}
					if !strings.Contains(body, "cert@example.org") {
						t.Errorf("the export lacks the validated PoC: %.300s", body)
					}
					if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="pocdir-`) {
						t.Errorf("Content-Disposition %q", cd)
					}
				})
			}
		}
	})
}
