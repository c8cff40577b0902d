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
		name: "full, KEDA first", cfg: Full, ops: []string{"keda", "kedactl"}, levels: full,
		want: []string{
			"stage 1: keda on keda-1000: take-over 1000 | keda on keda: 0 objects, 20 objects, 100 objects, figure 4 | kedactl on kedactl: 0 objects, 20 objects, 100 objects, figure 4",
			"stage 2: keda on keda-1000: measure 1000",
			"stage 3: keda on keda: figure 6",
			"stage 4: kedactl on kedactl: figure 6, 1000 objects",
			"stage 5: kedactl on kedactl-10000: 10000 objects",
		},
	}, {
		name: "full, ours alone", cfg: Full, ops: []string{"kedactl"}, levels: full,
		want: []string{
			"stage 1: kedactl on kedactl-1000: take-over 1000 | kedactl on kedactl: 0 objects, 20 objects, 100 objects, figure 4",
			"stage 2: kedactl on kedactl-1000: measure 1000",
			"stage 3: kedactl on kedactl: figure 6",
			"stage 4: kedactl on kedactl-10000: 10000 objects",
		},
	}, {
		name: "smoke", cfg: Smoke, ops: []string{"keda", "kedactl"}, levels: map[string]int{"keda": 100, "kedactl": 300},
		want: []string{
			"stage 1: keda on keda-100: take-over 100 | keda on keda: 0 objects, 20 objects, figure 4 | kedactl on kedactl: 0 objects, 20 objects, figure 4",
			"stage 2: keda on keda-100: measure 100",
			"stage 3: keda on keda: figure 6",
			"stage 4: kedactl on kedactl: figure 6, 100 objects",
			"stage 5: kedactl on kedactl-300: 300 objects",
		},
	}, {
		name: "figures 5 and 6 only", cfg: func() Config { c := Full; c.Only = []int{5, 6}; return c }(), ops: []string{"keda", "kedactl"}, levels: full,
		want: []string{
			"stage 1: keda on keda-1000: take-over 1000",
			"stage 2: keda on keda-1000: measure 1000",
			"stage 3: keda on keda: figure 6",
			"stage 4: kedactl on kedactl: figure 6, 1000 objects",
			"stage 5: kedactl on kedactl-10000: 10000 objects",
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

// What is timed in milliseconds never shares a stage: external metrics (at the take-over level and
// above) and the webhook.
func TestScheduleTimesMillisecondsAlone(t *testing.T) {
	stages := schedule(Full, []string{"keda", "kedactl"}, map[string]int{"keda": 1000, "kedactl": 10000})
	for i, s := range stages {
		for _, p := range s.Parts {
			for _, st := range p.Steps {
				timed := st.Kind == stepWebhook || st.Kind == stepMeasure ||
					(st.Kind == stepLevel && slices.Contains(Full.Fig5Levels, st.N))
				if timed && len(s.Parts) > 1 {
					t.Errorf("stage %d runs %s beside %d other parts", i+1, st, len(s.Parts)-1)
				}
			}
		}
	}
}

func TestLastUse(t *testing.T) {
	stages := schedule(Full, []string{"keda", "kedactl"}, map[string]int{"keda": 1000, "kedactl": 10000})
	got := lastUse(stages)
	want := map[string]int{"keda-1000": 1, "keda": 2, "kedactl": 3, "kedactl-10000": 4}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("lastUse[%s] = %d, want %d", k, got[k], v)
		}
	}
}
