package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestProgram drives the TUI as a real bubbletea program (teatest) with key presses, the way a user
// does, and compares each journey's final screen with its golden file.
func TestProgram(t *testing.T) {
	cases := []struct {
		name string
		// keys are typed in order; waitFor is screen text that must appear before the next key (the
		// last one is the journey's outcome, so the final screen is read once it has landed).
		steps []struct{ keys, waitFor string }
		check func(t *testing.T, src *fakeSource)
	}{
		{name: "open-details", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"j", ""}, {"j", ""}, {"\r", "TooManyReplicas"},
		}},
		{name: "open-scaledjob", steps: []struct{ keys, waitFor string }{
			{"", "sj/sync"}, {"jjj", ""}, {"\r", "0 new Jobs"},
		}},
		{name: "filter", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"/", ""}, {"rep", ""}, {"\r", "filter: rep"},
		}},
		{name: "pause-confirmed", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"p", "Pause"}, {"y", "batch/reports paused"},
		}, check: func(t *testing.T, src *fakeSource) {
			if len(src.paused) != 1 || !strings.HasPrefix(src.paused[0], "pause ") {
				t.Errorf("the source was asked %v, want one pause", src.paused)
			}
		}},
		{name: "raw-metrics", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"j", ""}, {"j", ""}, {"\r", "TooManyReplicas"}, {"m", "2026-11-23T09:00:00Z"},
		}},
		{name: "transfer-hpa", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"t", "to adopt"}, {"legacy-hpa", ""}, {"\r", "Transfer HPA legacy-hpa"}, {"y", "now owns HPA legacy-hpa"},
		}, check: func(t *testing.T, src *fakeSource) {
			if len(src.transferred) != 1 || src.transferred[0] != "batch/reports <- legacy-hpa" {
				t.Errorf("the source was asked %v, want batch/reports to adopt legacy-hpa", src.transferred)
			}
		}},
		{name: "pause-cancelled", steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"p", "Pause"}, {"n", "cancelled"},
		}, check: func(t *testing.T, src *fakeSource) {
			if len(src.paused) != 0 {
				t.Errorf("a cancelled pause reached the source: %v", src.paused)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := fixtures()
			m := New(src, Options{NoColor: true, Refresh: time.Hour, DetailRefresh: time.Hour, Now: func() time.Time { return testNow }})
			tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
			for _, st := range tc.steps {
				for _, r := range st.keys {
					tm.Send(keyPress(r))
				}
				if st.waitFor != "" {
					teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(st.waitFor)) },
						teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
				}
			}
			tm.Send(keyPress('q'))
			final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
			golden(t, "program-"+tc.name, final.Render())
			if tc.check != nil {
				tc.check(t, src)
			}
		})
	}
}

func keyPress(r rune) tea.KeyPressMsg {
	if r == '\r' {
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}
