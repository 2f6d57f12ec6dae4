package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestNominationsListPages shows the nominations fifty at a time, with
// links to the older and newer pages that keep the status chosen, and the
// "open" tab lists the drafts, submitted and returned nominations.
func TestNominationsListPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, e testkit.Engine) {
		sys := testkit.New(t, e)
		fp := sys.User(t, "fp@ken.example", app.RoleFocalPoint, "KEN")
		var agencies []string
		for i := range app.PageSize + 2 {
			in := testkit.ValidPoC()
			in.Agency, in.Draft = fmt.Sprintf("Agency number %03d", i), i%2 == 0
			if _, err := sys.Directory.ProposePoC(fp.Ctx(), "KEN", in); err != nil {
				t.Fatal(err)
			}
			agencies = append(agencies, in.Agency)
		}
		srv := sys.Serve(t)
		c := sys.Login(t, srv, fp)
		for _, status := range []string{"open", "all"} {
			_, page := get(t, c, srv.URL+"/nominations?status="+status)
			older := regexp.MustCompile(`<a href="\?(before=[0-9_]+&amp;status=` + status + `)" rel="next">`).FindStringSubmatch(page)
			if older == nil || strings.Contains(page, `rel="prev"`) || !strings.Contains(page, agencies[len(agencies)-1]) || strings.Contains(page, agencies[1]) {
				t.Fatalf("%s, the first page: no link to the older ones, or not the newest fifty", status)
			}
			_, page = get(t, c, srv.URL+"/nominations?"+strings.ReplaceAll(older[1], "&amp;", "&"))
			if !strings.Contains(page, agencies[0]) || !strings.Contains(page, agencies[1]) || strings.Contains(page, agencies[2]) ||
				!strings.Contains(page, `rel="prev"`) || strings.Contains(page, `rel="next"`) {
				t.Errorf("%s, the second page: not the two oldest, or its links are wrong", status)
			}
		}
		for _, q := range []string{"before=soon", "status=lost"} {
			if resp, _ := get(t, c, srv.URL+"/nominations?"+q); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", q, resp.StatusCode)
			}
		}
	})
}
