package chart

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func TestRender(t *testing.T) {
	value := Series{Label: "value", Mark: '•', Points: []Point{{At: sec(0), V: 0, OK: true}, {At: sec(20), V: 10, OK: true}, {At: sec(40), V: 4, OK: true}}}
	target := Series{Label: "target", Mark: '─', Points: []Point{{At: sec(0), V: 5, OK: true}}}
	gap := Series{Label: "value", Mark: '•', Points: []Point{{At: sec(0), OK: false}, {At: sec(30), V: 2, OK: true}}}
	cases := []struct {
		name    string
		panels  []Panel
		markers []Marker
		width   int
		want    string
	}{
		{name: "value over its target, with markers", width: 14, panels: []Panel{{Title: "#0", Height: 3, Series: []Series{value, target}}},
			markers: []Marker{{At: sec(20), Mark: 'A'}, {At: sec(59), Mark: '!'}, {At: sec(-5), Mark: 'x'}}, want: `
#0  • value  ─ target
10┤   ••••
  ┤───────••••
 0┤•••
      A      !
  └───────────
   -60s    now`},
		{name: "a gap until the first reading", width: 10, panels: []Panel{{Title: "#1", Height: 2, Series: []Series{gap}}}, want: `
#1  • value
2┤   •••••
0┤

 └────────
  -60s now`},
		{name: "too narrow draws nothing", width: 4, panels: []Panel{{Title: "#0", Height: 3, Series: []Series{value}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Render(tc.panels, tc.markers, t0, sec(60), tc.width), "\n")
			if want := strings.TrimPrefix(tc.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{90 * time.Second: "-90s", 5 * time.Minute: "-5m", 150 * time.Second: "-2m30s", 2 * time.Hour: "-2h", 90 * time.Minute: "-1h30m"} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}
