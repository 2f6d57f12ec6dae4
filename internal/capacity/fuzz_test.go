package capacity

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/directory"
)

// FuzzNeedInput: whatever a need's form or JSON carries, the checks never
// panic, and what they accept keeps to the limits and the lists.
func FuzzNeedInput(f *testing.F) {
	f.Add("training_course", "poc_setup,forensics", "duty roster", "technical", "fa,en", "2026-09-30", "offerers", "fr", "Former", "Train")
	f.Add("", "", "", "", "", "30/09/2026", "friends", "xx", "", "")
	f.Add("webinar", "norms", strings.Repeat("é", 201), "legal", "English", "2026-02-30", "", "en", "\x00", "")
	f.Fuzz(func(t *testing.T, kind, topics, other, level, langs, by, vis, lang, text, english string) {
		in := NeedInput{Kind: kind, Topics: strings.Split(topics, ","), TopicOther: other, Level: directory.Level(level),
			Languages: strings.Split(langs, ","), NeededBy: by, Visibility: Visibility(vis), Details: Text{Lang: lang, Text: text, English: english}}
		if err := in.normalize(); err != nil {
			if app.ErrorCode(err) != app.Invalid {
				t.Fatalf("an error that is not a refusal: %v", err)
			}
			return
		}
		if !validKind(in.Kind) || !in.Level.Valid() || !in.Visibility.Valid() || len(in.Languages) == 0 || len(in.Languages) > MaxLanguages {
			t.Fatalf("accepted %+v", in)
		}
		for _, tp := range in.Topics {
			if !validTopic(tp) {
				t.Fatalf("accepted the topic %q", tp)
			}
		}
		if len(in.Topics) == 0 && in.TopicOther == "" {
			t.Fatal("accepted a need about nothing")
		}
		if utf8.RuneCountInString(in.TopicOther) > MaxShort || utf8.RuneCountInString(in.Details.Text) > MaxText || utf8.RuneCountInString(in.Details.English) > MaxText {
			t.Fatal("accepted text over its limit")
		}
		if in.NeededBy != "" && len(in.NeededBy) != 10 {
			t.Fatalf("accepted the date %q", in.NeededBy)
		}
	})
}

// FuzzOfferInput: the same for an offer, from a State and from the
// Secretariat.
func FuzzOfferInput(f *testing.F) {
	f.Add(true, "Forensics Foundation", "workshop", "forensics", "", "en", "online", 20, "2026-04-01", "2026-12-31")
	f.Add(false, "", "sop", "", "", "", "by post", -1, "2026-12-01", "2026-01-01")
	f.Fuzz(func(t *testing.T, sec bool, partner, kind, topics, level, langs, format string, capacity int, from, to string) {
		a := &app.Actor{Role: app.RoleFocalPoint, State: "FRA"}
		if sec {
			a = &app.Actor{Role: app.RoleSecretariat}
		}
		in := OfferInput{Partner: partner, Kind: kind, Topics: strings.Split(topics, ","), Level: directory.Level(level), Languages: strings.Split(langs, ","),
			Format: format, Capacity: capacity, PeriodFrom: from, PeriodTo: to}
		if err := in.normalize(a); err != nil {
			if app.ErrorCode(err) != app.Invalid {
				t.Fatalf("an error that is not a refusal: %v", err)
			}
			return
		}
		if sec == (in.Partner == "") || !validKind(in.Kind) || in.Capacity < 0 || in.Capacity > MaxCapacity {
			t.Fatalf("accepted %+v", in)
		}
		if in.PeriodFrom != "" && in.PeriodTo != "" && in.PeriodTo < in.PeriodFrom {
			t.Fatal("accepted a period that ends before it starts")
		}
	})
}
