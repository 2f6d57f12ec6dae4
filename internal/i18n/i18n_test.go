package i18n_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/pocdir/pocdir/internal/comms"
	"github.com/pocdir/pocdir/internal/directory"
	"github.com/pocdir/pocdir/internal/i18n"
)

// usedKeys collects every message id the code and templates name: literal
// keys, and the families built at run time (roles, levels, groups, …).
// dataNames look like catalog keys but name data.
var dataNames = map[string]bool{"poc.create": true, "poc.update": true, "poc.remove": true, "entry.update": true, "entry.reconfirm": true,
	"directory.exported": true, "account.login": true}

func usedKeys(t *testing.T) map[string]bool {
	keys := map[string]bool{}
	lit := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	goKey := regexp.MustCompile(`"((?:error|login|totp|enrol|invite|poc|entry|users|account|directory|state|history|nav|form|field|demo|footer|text|mail|outbox|log|nomination|dashboard|check|template|comm|indicator)\.[a-z0-9_]+)"`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".html"):
			for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
				keys[m[1]] = true
			}
		case strings.HasSuffix(p, ".go"):
			for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
				// Change actions ("poc.update") and log event types
				// ("directory.exported") are data, not messages.
				// A key ending in "_" is a prefix completed at run time.
				if !strings.HasSuffix(m[1], ".html") && !strings.HasSuffix(m[1], "_") && !dataNames[m[1]] {
					keys[m[1]] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"secretariat", "focal-point", "officer"} {
		keys["role."+r] = true
	}
	for _, l := range directory.Levels {
		keys["level."+string(l)] = true
	}
	for _, g := range directory.Groups {
		keys["group."+g] = true
	}
	for _, c := range directory.ChannelKinds {
		keys["channel."+string(c)] = true
	}
	for _, a := range []string{"entry.update", "entry.reconfirm", "poc.create", "poc.update", "poc.remove"} {
		keys["action."+a] = true
	}
	for _, f := range []string{"level", "alternate", "agency", "function_title", "person_name", "channels", "languages", "time_zone",
		"available_24_7", "working_hours", "hours", "openpgp_fingerprint", "openpgp_expires_at", "openpgp_key", "confirmed_at", "notes_lang", "notes", "notes_en", "regional_refs", "initiate_via"} {
		keys["field."+f] = true
	}
	keys["scope.read"], keys["scope.write"] = true, true
	for name, options := range comms.Lists {
		keys["list.name."+name] = true
		for _, o := range options {
			keys["list."+name+"."+o] = true
		}
	}
	for _, k := range comms.Kinds {
		keys["template.kind_"+k] = true
	}
	return keys
}

func TestEveryMessageIsInEveryCatalog(t *testing.T) {
	c := i18n.MustLoad()
	used := usedKeys(t)
	if len(used) < 100 {
		t.Fatalf("found only %d keys: the scan is broken", len(used))
	}
	for _, lang := range c.Languages() {
		have := c.Keys(lang)
		for k := range used {
			if !have[k] {
				t.Errorf("%s: missing %q", lang, k)
			}
		}
	}
}

func TestCatalogFilesAreValidJSON(t *testing.T) {
	files, _ := filepath.Glob("locales/*.json")
	if len(files) == 0 {
		t.Fatal("no catalogs")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLanguageNegotiation(t *testing.T) {
	c := i18n.MustLoad()
	cases := []struct{ saved, accept, want string }{
		{"", "", "en"},
		{"", "en-GB,en;q=0.8", "en"},
		{"", "xx-YY", "en"},
		{"", "garbage;;;", "en"},
		{"en", "fr", "en"},
		{"zz", "en", "en"},
		{"", "fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"", "ar-EG", "ar"},
		{"", "es-419,es;q=0.9", "es"},
		{"", "ru-RU,ru;q=0.9,en-US;q=0.8", "ru"},
		{"", "zh-CN,zh;q=0.9", "zh"},
		{"", "de-DE,de;q=0.9,fr;q=0.5", "fr"},
		{"ru", "fr", "ru"},
	}
	for _, cs := range cases {
		if got := c.Match(cs.saved, cs.accept); got != cs.want {
			t.Errorf("Match(%q, %q) = %q, want %q", cs.saved, cs.accept, got, cs.want)
		}
	}
}

func TestPluralsAndArguments(t *testing.T) {
	l := i18n.MustLoad().For("en")
	if got := l.T("state.pocs", "Count", 1); got != "1 Point of Contact" {
		t.Errorf("one: %q", got)
	}
	if got := l.T("state.pocs", "Count", 4); got != "4 Points of Contact" {
		t.Errorf("other: %q", got)
	}
	if got := l.T("error.too_long", "Max", 200); !strings.Contains(got, "200") {
		t.Errorf("argument: %q", got)
	}
	if got := l.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if i18n.Dir("ar") != "rtl" || i18n.Dir("zh") != "ltr" {
		t.Error("writing direction")
	}
}

func TestPluralFormsOfEveryLanguage(t *testing.T) {
	c := i18n.MustLoad()
	// One count of each CLDR plural class that the six languages use.
	counts := []int{0, 1, 2, 3, 5, 11, 21, 22, 100, 101, 1000000}
	for _, lang := range c.Languages() {
		l := c.For(lang)
		for _, n := range counts {
			got := l.T("state.pocs", "Count", n)
			// Arabic says "one" and "two" in words, as its grammar wants.
			numeral := !(lang == "ar" && (n == 1 || n == 2))
			if got == "state.pocs" || got == "" || (numeral && !strings.Contains(got, strconv.Itoa(n))) {
				t.Errorf("%s, %d: %q", lang, n, got)
			}
		}
	}
}

func TestRussianAndArabicPlurals(t *testing.T) {
	c := i18n.MustLoad()
	for _, lang := range []string{"ar", "en", "es", "fr", "ru", "zh"} {
		if !c.Has(lang) {
			t.Fatalf("the %s catalog is missing", lang)
		}
	}
	ru := c.For("ru")
	// 1 (one), 3 (few), 5 (many) take three different forms in Russian.
	one, few, many := ru.T("account.days", "Count", 1), ru.T("account.days", "Count", 3), ru.T("account.days", "Count", 5)
	if one == few || few == many || one == many {
		t.Errorf("Russian forms do not differ: %q %q %q", one, few, many)
	}
	ar := c.For("ar")
	forms := map[string]bool{}
	for _, n := range []int{0, 1, 2, 3, 11, 100} {
		forms[strings.ReplaceAll(ar.T("account.days", "Count", n), strconv.Itoa(n), "N")] = true
	}
	if len(forms) < 5 {
		t.Errorf("Arabic has %d distinct forms for 0, 1, 2, 3, 11, 100: %v", len(forms), forms)
	}
}

func TestCountInAMessageWithoutPlurals(t *testing.T) {
	l := i18n.MustLoad().For("en")
	for n, want := range map[int]string{1: "1 of 195", 2: "2 of 195"} {
		if got := l.T("dashboard.nominated_of", "Count", n, "Total", 195); got != want {
			t.Errorf("%d: got %q, want %q", n, got, want)
		}
	}
}

// TestPlainMessagesReadAsGoI18nWouldSay holds the catalog's plain strings to
// what go-i18n, which held every message before, says for each message of
// each language, with and without arguments and counts.
func TestPlainMessagesReadAsGoI18nWouldSay(t *testing.T) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := filepath.Glob(filepath.Join("locales", "*.json"))
	if err != nil || len(files) != 6 {
		t.Fatalf("catalogs: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := b.LoadMessageFile(f); err != nil {
			t.Fatal(err)
		}
	}
	c := i18n.MustLoad()
	checked := 0
	for _, lang := range c.Languages() {
		want := goi18n.NewLocalizer(b, lang)
		got := c.For(lang)
		for id := range c.Keys(lang) {
			for _, args := range [][]any{nil, {"Count", 1}, {"Count", 5, "Total", 7}, {"Name", "Ghana", "State", "GHA"}} {
				data := map[string]any{}
				var count any
				for i := 0; i+1 < len(args); i += 2 {
					data[args[i].(string)] = args[i+1]
					if args[i] == "Count" {
						count = args[i+1]
					}
				}
				w, err := want.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
				if err != nil && count != nil {
					w, err = want.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
				}
				if err != nil || w == "" {
					w = id
				}
				if g := got.T(id, args...); g != w {
					t.Errorf("%s %s %v: %q, go-i18n says %q", lang, id, args, g, w)
				}
				checked++
			}
		}
	}
	if checked < 6*1000*4 {
		t.Fatalf("only %d messages checked", checked)
	}
}
