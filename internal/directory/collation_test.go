package directory_test

import (
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/testkit"
)

// TestListSortsAsAnEnglishReaderExpects: the database sorts names by
// bytes, which put Côte d'Ivoire after Czechia and Türkiye after Tuvalu.
func TestListSortsAsAnEnglishReaderExpects(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	u := sys.User(t, "off@fra.example", app.RoleOfficer, "FRA")
	list, err := sys.Directory.List(u.Ctx(), directory.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for i, s := range list {
		at[s.Code] = i
	}
	for _, pair := range [][2]string{{"CIV", "HRV"}, {"CIV", "CZE"}, {"TUR", "TKM"}, {"TUR", "TUV"}} {
		if at[pair[0]] > at[pair[1]] {
			t.Errorf("%s comes after %s", list[at[pair[0]]].Name, list[at[pair[1]]].Name)
		}
	}
}
