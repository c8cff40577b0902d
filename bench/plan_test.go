package main

import (
	"slices"
	"testing"
)

func TestSchedule(t *testing.T) {
	full := map[string]int{"keda": 1000, "kedactl": 10000}
	cases := []struct {
		name   string
		cfg    Config
		ops    []string
		levels map[string]int
		want   []string
	}{{
		name: "full", cfg: Full, ops: []string{"keda", "kedactl"}, levels: full,
		want: []string{
			"stage 1: keda on keda-1000: take-over 1000 | keda on keda: 0 objects, 100 objects, figure 4 | kedactl on kedactl-1000: take-over 1000 | kedactl on kedactl: 0 objects, 100 objects, figure 4",
			"stage 2: keda on keda-1000: measure 1000 | keda on keda: held frozen | kedactl on kedactl-1000: held frozen at 1000 | kedactl on kedactl: held frozen",
			"stage 3: keda on keda-1000: held frozen at 1000 | keda on keda: held frozen | kedactl on kedactl-1000: measure 1000 | kedactl on kedactl: held frozen",
			"stage 4: keda on keda: figure 6, 20 objects | kedactl on kedactl: held frozen",
			"stage 5: kedactl on kedactl: figure 6, 20 objects",
			"stage 6: kedactl on kedactl-10000: 10000 objects",
		},
	}, {
		name: "full, ours alone", cfg: Full, ops: []string{"kedactl"}, levels: full,
		want: []string{
			"stage 1: kedactl on kedactl-1000: take-over 1000 | kedactl on kedactl: 0 objects, 100 objects, figure 4",
			"stage 2: kedactl on kedactl-1000: measure 1000 | kedactl on kedactl: held frozen",
			"stage 3: kedactl on kedactl: figure 6, 20 objects",
			"stage 4: kedactl on kedactl-10000: 10000 objects",
		},
	}, {
		name: "smoke", cfg: Smoke, ops: []string{"keda", "kedactl"}, levels: map[string]int{"keda": 100, "kedactl": 300},
		want: []string{
			"stage 1: keda on keda-100: take-over 100 | keda on keda: 0 objects, figure 4 | kedactl on kedactl-100: take-over 100 | kedactl on kedactl: 0 objects, figure 4",
			"stage 2: keda on keda-100: measure 100 | keda on keda: held frozen | kedactl on kedactl-100: held frozen at 100 | kedactl on kedactl: held frozen",
			"stage 3: keda on keda-100: held frozen at 100 | keda on keda: held frozen | kedactl on kedactl-100: measure 100 | kedactl on kedactl: held frozen",
			"stage 4: keda on keda: figure 6, 20 objects | kedactl on kedactl: held frozen",
			"stage 5: kedactl on kedactl: figure 6, 20 objects",
			"stage 6: kedactl on kedactl-300: 300 objects",
		},
	}, {
		name: "figures 5 and 6 only", cfg: func() Config { c := Full; c.Only = []int{5, 6}; return c }(), ops: []string{"keda", "kedactl"}, levels: full,
		want: []string{
			"stage 1: keda on keda-1000: take-over 1000 | kedactl on kedactl-1000: take-over 1000",
			"stage 2: keda on keda-1000: measure 1000 | kedactl on kedactl-1000: held frozen at 1000",
			"stage 3: keda on keda-1000: held frozen at 1000 | kedactl on kedactl-1000: measure 1000",
			"stage 4: keda on keda: figure 6",
			"stage 5: kedactl on kedactl: figure 6",
			"stage 6: kedactl on kedactl-10000: 10000 objects",
		},
	}, {
		name: "figure 4 only", cfg: func() Config { c := Full; c.Only = []int{4}; return c }(), ops: []string{"keda", "kedactl"}, levels: full,
		want: []string{"stage 1: keda on keda: figure 4 | kedactl on kedactl: figure 4"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describeSchedule(schedule(tc.cfg, tc.ops, tc.levels))
			if !slices.Equal(got, tc.want) {
				t.Errorf("schedule:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// What is timed in milliseconds shares a stage only with clusters held frozen: external metrics,
// activation (push activation is timed in milliseconds) and the webhook.
func TestScheduleTimesMillisecondsAlone(t *testing.T) {
	stages := schedule(Full, []string{"keda", "kedactl"}, map[string]int{"keda": 1000, "kedactl": 10000})
	for i, s := range stages {
		busy := 0
		timed := false
		for _, p := range s.Parts {
			holds := true
			for _, st := range p.Steps {
				holds = holds && st.Kind == stepHold
				if st.Kind == stepWebhook || st.Kind == stepMeasure || (st.Kind == stepLevel && (slices.Contains(Full.Fig5Levels, st.N) || slices.Contains(Full.ActLoads, st.N))) {
					timed = true
				}
			}
			if !holds {
				busy++
			}
		}
		if timed && busy > 1 {
			t.Errorf("stage %d times milliseconds beside %d busy parts: %s", i+1, busy-1, describeSchedule(stages)[i])
		}
	}
}

func TestLastUse(t *testing.T) {
	stages := schedule(Full, []string{"keda", "kedactl"}, map[string]int{"keda": 1000, "kedactl": 10000})
	got := lastUse(stages)
	want := map[string]int{"keda-1000": 2, "kedactl-1000": 2, "keda": 3, "kedactl": 4, "kedactl-10000": 5}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("lastUse[%s] = %d, want %d", k, got[k], v)
		}
	}
}
