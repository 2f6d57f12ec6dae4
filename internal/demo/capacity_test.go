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
	acts, err := sys.Capacity.Activities(sec, app.Cursor{}, 0)
	if err != nil || len(acts.List) != 1 || acts.List[0].Status != "under-way" {
		t.Fatalf("activities %+v %v", acts, err)
	}
	sug, err := sys.Capacity.Suggestions(sec)
	if err != nil || len(sug) == 0 {
		t.Fatalf("suggestions %d %v", len(sug), err)
	}
	fra := app.WithActor(ctx, &app.Actor{Role: app.RoleOfficer, Email: "x@fra.example", State: "FRA"})
	needs, err := sys.Capacity.Needs(fra, app.Cursor{}, 0)
	if err != nil || len(needs.List) != 2 {
		t.Fatalf("France sees %+v (Kenya's matched need and Brazil's), %v", needs, err)
	}
}

// TestDemoExercises: the demo shows an exercise that ends a few minutes
// after the seeding, with a released inject that Kenya acknowledged, its
// note and the need Kenya learnt from it; and one planned for next week.
func TestDemoExercises(t *testing.T) {
	sys := testkit.New(t, testkit.Engines()[0])
	ctx := context.Background()
	if err := demo.Seed(ctx, sys.Directory, sys.Accounts, false); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedExercises(ctx, sys.Exercises, sys.Comms, sys.Capacity); err != nil {
		t.Fatal(err)
	}
	sec := app.WithActor(ctx, &app.Actor{Role: app.RoleSecretariat, Email: "s@example.org"})
	list, err := sys.Exercises.Exercises(sec)
	if err != nil || len(list) != 2 {
		t.Fatalf("%d exercises, %v", len(list), err)
	}
	past := list[1]
	r, err := sys.Exercises.Report(sec, past.ID)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	for _, f := range r.States {
		acked[f.State] = f.Acked != nil
	}
	if !acked["KEN"] || acked["FRA"] || r.Exercise.Note == "" {
		t.Errorf("the past exercise's report: acknowledged %v, note %q", acked, r.Exercise.Note)
	}
	needs, err := sys.Capacity.ExerciseNeeds(sec, past.ID)
	if err != nil || len(needs) != 1 || needs[0].ExerciseID != past.ID {
		t.Errorf("the need learnt from the exercise: %+v %v", needs, err)
	}
}
