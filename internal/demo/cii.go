package demo

import (
	"context"

	"github.com/pocdir/pocdir/internal/app"
	"github.com/pocdir/pocdir/internal/cii"
	"github.com/pocdir/pocdir/internal/directory"
)

// SeedCII publishes fictional lists of critical information infrastructure
// for a few States, each in a UN language with English, so that the
// comparison and the sector field of a notification to Kenya have
// something to show. France's and Kenya's are published by their demo
// focal points; the others by a focal point without an account.
func SeedCII(ctx context.Context, svc *cii.Service) error {
	t := func(lang, text, english string) directory.Text {
		if lang == "en" {
			return directory.Text{Lang: "en", Text: text}
		}
		return directory.Text{Lang: lang, Text: text, English: english}
	}
	ref := func(keys ...string) []cii.Sector {
		out := make([]cii.Sector, len(keys))
		for i, k := range keys {
			out[i] = cii.Sector{Key: k}
		}
		return out
	}
	lists := []struct {
		state string
		in    cii.Input
	}{
		{"FRA", cii.Input{Sectors: append(ref("energy", "transport", "finance", "health", "water", "telecom", "government", "space"),
			cii.Sector{Name: t("fr", "Audiovisuel public (fictif)", "Public broadcasting (fictional)")}),
			Criteria: t("fr", "Opérateurs dont l'indisponibilité menacerait gravement la vie de la Nation (fictif).", "Operators whose unavailability would gravely threaten the life of the Nation (fictional).")}},
		{"KEN", cii.Input{Sectors: append(ref("energy", "finance", "telecom", "government", "elections"),
			cii.Sector{Name: t("en", "Mobile money (fictional)", ""), Note: t("en", "Payment services used by most households.", "")},
			cii.Sector{Name: t("en", "Tea and flower auctions (fictional)", "")}),
			Criteria: t("en", "Services whose loss for a day would affect over a million people or a tenth of exports (fictional).", "")}},
		{"DEU", cii.Input{Sectors: ref("energy", "transport", "finance", "health", "water", "telecom", "food", "government"),
			Criteria: t("en", "Facilities above the thresholds per sector set in national regulation (fictional).", "")}},
		{"ARG", cii.Input{Sectors: ref("energy", "finance", "telecom", "government", "water"),
			Criteria: t("es", "Servicios cuya interrupción afectaría a la seguridad nacional (ficticio).", "Services whose interruption would affect national security (fictional).")}},
		{"EGY", cii.Input{Sectors: append(ref("energy", "transport", "telecom", "government"), cii.Sector{Name: t("ar", "قناة السويس (وهمي)", "Suez Canal operations (fictional)")}),
			Criteria: t("ar", "المرافق التي يؤثر تعطلها على الأمن القومي (وهمي).", "Facilities whose disruption affects national security (fictional).")}},
		{"CHN", cii.Input{Sectors: ref("energy", "transport", "finance", "telecom", "government", "water", "digital"),
			Criteria: t("zh", "一旦遭到破坏可能严重危害国家安全的设施（虚构）。", "Facilities whose damage could gravely endanger national security (fictional).")}},
		{"RUS", cii.Input{Sectors: ref("energy", "transport", "finance", "health", "telecom", "manufacturing", "space", "government"),
			Criteria: t("ru", "Объекты, нарушение работы которых повлечёт значимые последствия (вымышлено).", "Objects whose disruption would have significant consequences (fictional).")}},
	}
	for _, l := range lists {
		fp := app.WithActor(ctx, &app.Actor{Email: "focal.point@" + lower(l.state) + ".demo.pocdir.example", Role: app.RoleFocalPoint, State: l.state})
		if _, err := svc.Publish(fp, l.state, l.in); err != nil {
			return err
		}
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
