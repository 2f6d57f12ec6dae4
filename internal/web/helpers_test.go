package web

import (
	"strings"
	"testing"

	"github.com/pocdir/pocdir/internal/i18n"
)

// TestNumbersUseTheDigitsOfTheText: an Arabic page's tables count in 0–9,
// as its dates and references are written.
func TestNumbersUseTheDigitsOfTheText(t *testing.T) {
	cat := i18n.MustLoad()
	for lang, want := range map[string]string{"ar": "1", "en": "1,234", "fr": "1", "zh": "1,234"} {
		p := &Page{Localizer: cat.For(lang)}
		if got := p.Num(1234); !strings.Contains(got, want) || strings.ContainsAny(got, "٠١٢٣٤٥٦٧٨٩") {
			t.Errorf("%s: %q", lang, got)
		}
	}
}
