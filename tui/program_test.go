package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/kedactl/kedactl/tui/samples"
)

// TestProgram drives the TUI as a real bubbletea program (teatest) with key presses, the way a user
// does, and compares each journey's final screen with its golden file.
func TestProgram(t *testing.T) {
	cases := []struct {
		name string
		// keys are typed in order; waitFor is screen text that must appear before the next key (the
		// last one is the journey's outcome, so the final screen is read once it has landed), or
		// several joined by && that must all appear.
		steps []struct{ keys, waitFor string }
		check func(t *testing.T, src *fakeSource)
		// history, when set, is the operator's history the chart is seeded from.
		history samples.Source
		size    [2]int
	}{
		{name: "sort", steps: []struct{ keys, waitFor string }{
			// The terminal is redrawn by difference, so only what changed is waited for.
			{"", "orders"}, {"s", "NAME↑"}, {"s", "REPLICAS↑"}, {"S", "↓"},
		}},
		{name: "chart", history: fakeHistory{}, size: [2]int{100, 40}, steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"jj", ""}, {"\r", "kedactl-operator-0&&TooManyReplicas"},
		}},
		{name: "chart-hidden", history: fakeHistory{}, steps: []struct{ keys, waitFor string }{
			{"", "orders"}, {"jj", ""}, {"\r", "TooManyReplicas"}, {"c", "KEDAScaleTargetActivated"},
		}},
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
			m := New(src, Options{NoColor: true, Refresh: time.Hour, DetailRefresh: time.Hour, Now: func() time.Time { return testNow }, History: tc.history})
			size := tc.size
			if size == [2]int{} {
				size = [2]int{80, 24}
			}
			tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]))
			for _, st := range tc.steps {
				for _, r := range st.keys {
					tm.Send(keyPress(r))
				}
				if st.waitFor != "" {
					teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
						for _, want := range strings.Split(st.waitFor, "&&") {
							if !bytes.Contains(b, []byte(want)) {
								return false
							}
						}
						return true
					},
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

// fakeHistory is what the operator kept of shop/orders over the five minutes before testNow: the
// queue grows from 0 past the activation threshold and the target, the HPA scales 0 -> 1 -> 3 -> 5,
// and the queue drains.
type fakeHistory struct{}

func (fakeHistory) History(_ context.Context, kind, ns, name string, since time.Time) (samples.History, error) {
	if ns != "shop" || name != "orders" {
		return samples.History{}, nil
	}
	var h samples.History
	for i, v := range []float64{0, 0, 2, 8, 20, 40, 60, 80, 126, 126} {
		at := testNow.Add(time.Duration(i-10) * 30 * time.Second)
		replicas := int32(min(5, int(v/10)))
		if v > 1 && replicas == 0 {
			replicas = 1
		}
		h.Samples = append(h.Samples, samples.Sample{At: at, Current: replicas, Desired: min(5, replicas+1), HasReplicas: true,
			Triggers: []samples.Trigger{{Metric: "s0-redis-orders", Value: v, HasValue: true, Target: 10, Activation: 1, Active: v > 1}}})
	}
	h.Events = []samples.Event{
		{At: testNow.Add(-4 * time.Minute), Type: "Normal", Reason: "KEDAScaleTargetActivated", Message: "Scaled apps/v1.Deployment shop/orders from 0 to 1"},
		{At: testNow.Add(-3 * time.Minute), Type: "Normal", Reason: "SuccessfulRescale", Message: "New size: 3; reason: external metric s0-redis-orders above target"},
		{At: testNow.Add(-90 * time.Second), Type: "Warning", Reason: "KEDAScalerFailed", Message: "connection refused"},
	}
	h.Replica = "kedactl-operator-0"
	return h, nil
}

func keyPress(r rune) tea.KeyPressMsg {
	if r == '\r' {
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}
