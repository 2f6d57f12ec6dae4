package app

import (
	"context"
	"testing"
)

func TestWhoReadsWhat(t *testing.T) {
	granted := &Actor{Role: RoleObserver, Organisation: "OSCE", Grant: &Grant{States: []string{"FRA"}, Offers: true}}
	for _, c := range []struct {
		name                     string
		a                        *Actor
		member, fra, ken, offers bool
		required                 Code // RequireActor's refusal, none for a member
	}{
		{"nobody signed in reads nothing", nil, false, false, false, false, Unauthorized},
		{"the Secretariat is a member and reads every entry", &Actor{Role: RoleSecretariat}, true, true, true, true, ""},
		{"a focal point is a member and reads every entry", &Actor{Role: RoleFocalPoint, State: "KEN"}, true, true, true, true, ""},
		{"a read-only token of an officer is a member", &Actor{Role: RoleOfficer, State: "KEN", ReadOnly: true}, true, true, true, true, ""},
		{"an observer reads only what it was granted", granted, false, true, false, true, Forbidden},
		{"an observer granted nothing reads nothing", &Actor{Role: RoleObserver}, false, false, false, false, Forbidden},
		{"an observer granted the entries only reads no offers", &Actor{Role: RoleObserver, Grant: &Grant{States: []string{"KEN"}}}, false, false, true, false, Forbidden},
		{"an unknown role is no member, whatever it carries", &Actor{Role: "partner", Grant: &Grant{States: []string{"FRA"}, Offers: true}}, false, false, false, false, Forbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.IsMember(); got != c.member {
				t.Errorf("IsMember = %v", got)
			}
			if got := c.a.MayReadEntry("FRA"); got != c.fra {
				t.Errorf("MayReadEntry(FRA) = %v", got)
			}
			if got := c.a.MayReadEntry("KEN"); got != c.ken {
				t.Errorf("MayReadEntry(KEN) = %v", got)
			}
			if got := c.a.MayReadOffers(); got != c.offers {
				t.Errorf("MayReadOffers = %v", got)
			}
			ctx := context.Background()
			if c.a != nil {
				ctx = WithActor(ctx, c.a)
			}
			if _, err := RequireActor(ctx); ErrorCode(err) != c.required {
				t.Errorf("RequireActor: %v, want %q", err, c.required)
			}
			if _, err := RequireWrite(ctx); c.required != "" && ErrorCode(err) != c.required {
				t.Errorf("RequireWrite: %v, want %q", err, c.required)
			}
			if _, err := RequireAnyActor(ctx); (err != nil) != (c.a == nil) {
				t.Errorf("RequireAnyActor: %v", err)
			}
		})
	}
}
