package directory

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours are a PoC's working hours in its own time zone: one or more spans
// of days with a time range each, written "mon-fri 09:00-17:00" and, for
// several, joined by "; " ("sun-thu 08:00-16:00; fri 08:00-12:00"). A
// range whose end is before its start runs past midnight ("mon-fri
// 22:00-06:00" covers Tuesday 05:00). This is what is stored and what the
// API takes; pages show it in the reader's language.
type Hours []Span

// Span is a set of days (Monday first) and a time range in minutes from
// midnight.
type Span struct {
	Days     [7]bool
	From, To int
}

// maxSpans bounds what a PoC's hours may hold.
const maxSpans = 7

var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// ErrHours is what ParseHours refuses.
var ErrHours = errors.New("working hours: write days and times, e.g. mon-fri 09:00-17:00")

// ParseHours reads hours written as FormatHours writes them; it accepts
// upper case, "–" for "-" and a comma-separated list of days.
func ParseHours(s string) (Hours, error) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ToLower(s), "–", "-"))
	if s == "" {
		return nil, nil
	}
	if len(s) > 300 {
		return nil, ErrHours
	}
	var out Hours
	for _, part := range strings.Split(s, ";") {
		fields := strings.Fields(part)
		if len(fields) != 2 || len(out) == maxSpans {
			return nil, ErrHours
		}
		var sp Span
		for _, d := range strings.Split(fields[0], ",") {
			a, b, isRange := strings.Cut(d, "-")
			i, j := dayIndex(a), dayIndex(b)
			if !isRange {
				j = i
			}
			if i < 0 || j < 0 {
				return nil, ErrHours
			}
			for k := i; ; k = (k + 1) % 7 { // "sat-mon" wraps round the week
				sp.Days[k] = true
				if k == j {
					break
				}
			}
		}
		from, to, ok := strings.Cut(fields[1], "-")
		if !ok {
			return nil, ErrHours
		}
		var err1, err2 error
		sp.From, err1 = clock(from, false)
		sp.To, err2 = clock(to, true)
		if err1 != nil || err2 != nil || sp.From == sp.To {
			return nil, ErrHours
		}
		out = append(out, sp)
	}
	return out, nil
}

func dayIndex(s string) int {
	for i, d := range dayNames {
		if s == d {
			return i
		}
	}
	return -1
}

// clock reads HH:MM; 24:00 only as an end.
func clock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, ErrHours
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && (mm != 0 || !end) {
		return 0, ErrHours
	}
	return hh*60 + mm, nil
}

// String writes the hours in their canonical form.
func (h Hours) String() string {
	parts := make([]string, 0, len(h))
	for _, sp := range h {
		parts = append(parts, sp.DayList()+" "+Clock(sp.From)+"-"+Clock(sp.To))
	}
	return strings.Join(parts, "; ")
}

// DayList writes the span's days as runs: "mon-fri", "mon,wed,fri".
func (sp Span) DayList() string {
	var runs []string
	for _, r := range sp.Runs() {
		if r[0] == r[1] {
			runs = append(runs, dayNames[r[0]])
		} else {
			runs = append(runs, dayNames[r[0]]+"-"+dayNames[r[1]])
		}
	}
	return strings.Join(runs, ",")
}

// Runs are the span's days as runs of consecutive days, Monday first:
// [0 4] for Monday to Friday.
func (sp Span) Runs() [][2]int {
	var out [][2]int
	for i := 0; i < 7; i++ {
		if !sp.Days[i] {
			continue
		}
		j := i
		for j+1 < 7 && sp.Days[j+1] {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// Clock writes minutes from midnight as HH:MM.
func Clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Open reports whether the hours cover the instant t in the zone.
func (h Hours) Open(zone string, t time.Time) bool {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return false
	}
	t = t.In(loc)
	day := (int(t.Weekday()) + 6) % 7 // Monday is 0
	min := t.Hour()*60 + t.Minute()
	for _, sp := range h {
		switch {
		case sp.From < sp.To:
			if sp.Days[day] && min >= sp.From && min < sp.To {
				return true
			}
		default: // past midnight: the evening of a listed day, or the morning after it
			if sp.Days[day] && min >= sp.From || sp.Days[(day+6)%7] && min < sp.To {
				return true
			}
		}
	}
	return false
}
