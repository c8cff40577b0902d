package samples

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func at(sec int, value float64, current int32) Sample {
	return Sample{At: t0.Add(time.Duration(sec) * time.Second), Current: current, Desired: current, HasReplicas: true,
		Triggers: []Trigger{{Metric: "s0-redis", Value: value, HasValue: true, Target: 5}}}
}

// values lists the samples' seconds after t0 and first trigger value, to compare in one line.
func values(ss []Sample) [][2]float64 {
	out := make([][2]float64, len(ss))
	for i, s := range ss {
		out[i] = [2]float64{s.At.Sub(t0).Seconds(), s.Triggers[0].Value}
	}
	return out
}

func equal(a, b [][2]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRing(t *testing.T) {
	cases := []struct {
		name     string
		capacity int
		add      []Sample
		seed     []Sample
		want     [][2]float64
		wantLast int
	}{
		{name: "keeps the newest", capacity: 3, add: []Sample{at(0, 1, 1), at(1, 2, 1), at(2, 3, 1), at(3, 4, 1)},
			want: [][2]float64{{1, 2}, {2, 3}, {3, 4}}, wantLast: 3},
		{name: "a run of equal samples is its first", capacity: 3, add: []Sample{at(0, 1, 1), at(1, 1, 1), at(2, 1, 1), at(3, 2, 1)},
			want: [][2]float64{{0, 1}, {3, 2}}, wantLast: 3},
		{name: "a replica change is a new sample", capacity: 3, add: []Sample{at(0, 1, 1), at(1, 1, 2)},
			want: [][2]float64{{0, 1}, {1, 1}}, wantLast: 1},
		{name: "an older sample is ignored", capacity: 3, add: []Sample{at(5, 1, 1), at(4, 2, 1)},
			want: [][2]float64{{5, 1}}, wantLast: 5},
		{name: "seed goes before the own samples", capacity: 4, add: []Sample{at(10, 5, 1), at(11, 6, 1)},
			seed: []Sample{at(9, 3, 1), at(2, 1, 1), at(10, 9, 1)},
			want: [][2]float64{{2, 1}, {9, 3}, {10, 5}, {11, 6}}, wantLast: 11},
		{name: "seed beyond capacity keeps the newest", capacity: 2, add: []Sample{at(10, 5, 1)},
			seed: []Sample{at(1, 1, 1), at(2, 2, 1)},
			want: [][2]float64{{2, 2}, {10, 5}}, wantLast: 10},
		{name: "seed of an empty ring", capacity: 3, seed: []Sample{at(1, 1, 1), at(2, 2, 1)},
			want: [][2]float64{{1, 1}, {2, 2}}, wantLast: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRing(tc.capacity)
			for _, s := range tc.add {
				r.Add(s)
			}
			r.Seed(tc.seed)
			if got := values(r.Samples()); !equal(got, tc.want) {
				t.Errorf("samples = %v, want %v", got, tc.want)
			}
			if got := r.Last().Sub(t0).Seconds(); got != float64(tc.wantLast) {
				t.Errorf("last = %vs, want %ds", got, tc.wantLast)
			}
		})
	}
}
