package demo_test

import (
	"context"
	"testing"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/demo"
	"github.com/pocdir/pocdir/internal/testkit"
)

func TestDemoCapacity(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	ctx := context.Background()
	if err := demo.Seed(ctx, sys.Directory, sys.Accounts, false); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedCapacity(ctx, sys.Capacity); err != nil {
		t.Fatal(err)
	}
	sec := app.WithActor(ctx, &app.Actor{Role: app.RoleSecretariat, Email: "s@example.org"})
	acts, err := sys.Capacity.Activities(sec)
	if err != nil || len(acts) != 1 || acts[0].Status != "under-way" {
		t.Fatalf("activities %+v %v", acts, err)
	}
	sug, err := sys.Capacity.Suggestions(sec)
	if err != nil || len(sug) == 0 {
		t.Fatalf("suggestions %d %v", len(sug), err)
	}
	fra := app.WithActor(ctx, &app.Actor{Role: app.RoleOfficer, Email: "x@fra.example", State: "FRA"})
	needs, err := sys.Capacity.Needs(fra)
	if err != nil || len(needs) != 2 {
		t.Fatalf("France sees %d needs (Kenya's matched one and Brazil's), %v", len(needs), err)
	}
}
