package membership

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/internal/shard"
)

// keyOwned finds a key whose owner among each member set is the one named beside it.
func keyOwned(t *testing.T, want ...any) string {
	t.Helper()
	for i := range 10000 {
		k := fmt.Sprintf("ScaledObject/ns/so-%d", i)
		ok := true
		for j := 0; j < len(want); j += 2 {
			ok = ok && shard.Owner(k, want[j].([]string)) == want[j+1].(string)
		}
		if ok {
			return k
		}
	}
	t.Fatalf("no key with owners %v", want)
	return ""
}

func TestMayAct(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	times := FenceTimes{Margin: 2 * time.Second, Handover: 6 * time.Second}
	abc, ab := []string{"a", "b", "c"}, []string{"a", "b"}
	mine := keyOwned(t, abc, "a", ab, "a")
	fromC := keyOwned(t, abc, "c", ab, "a") // a gains it when c goes
	toC := keyOwned(t, ab, "a", abc, "c")   // a loses it when c comes
	steady := func(members []string) []Epoch { return []Epoch{{Since: now.Add(-time.Minute), Members: members}} }
	good := Tenure{Self: "a", LeaseValidUntil: now.Add(13 * time.Second), ReadAt: now.Add(-time.Second), Epochs: steady(abc)}
	with := func(f func(*Tenure)) Tenure { t := good; f(&t); return t }

	for _, tc := range []struct {
		name   string
		key    string
		tenure Tenure
		want   string // empty: may act
	}{
		{name: "owner in a steady membership", key: mine, tenure: good},
		{name: "another replica owns it", key: fromC, tenure: good, want: "replica c owns it"},
		{name: "no Lease yet", key: mine, tenure: with(func(t *Tenure) { t.LeaseValidUntil = time.Time{} }), want: "holds no membership Lease"},
		{name: "Lease ends within the margin", key: mine, tenure: with(func(t *Tenure) { t.LeaseValidUntil = now.Add(time.Second) }),
			want: "could not be renewed in time"},
		{name: "Lease ends just after the margin", key: mine, tenure: with(func(t *Tenure) { t.LeaseValidUntil = now.Add(2*time.Second + time.Millisecond) })},
		{name: "Lease expired (partitioned)", key: mine, tenure: with(func(t *Tenure) { t.LeaseValidUntil = now.Add(-time.Second) }),
			want: "could not be renewed in time"},
		{name: "view never read", key: mine, tenure: with(func(t *Tenure) { t.ReadAt, t.Epochs = time.Time{}, nil }), want: "has not read the membership"},
		{name: "view stale", key: mine, tenure: with(func(t *Tenure) { t.ReadAt = now.Add(-6 * time.Second) }), want: "view of the membership is 6s old"},
		{name: "view stale within the margin of the handover", key: mine, tenure: with(func(t *Tenure) { t.ReadAt = now.Add(-4 * time.Second) }), want: "view of the membership is 4s old"},
		{name: "view two reads old", key: mine, tenure: with(func(t *Tenure) { t.ReadAt = now.Add(-3900 * time.Millisecond) })},
		{name: "just started: less than a handover of views", key: mine,
			tenure: with(func(t *Tenure) { t.Epochs = []Epoch{{Since: now.Add(-3 * time.Second), Members: abc}} }), want: "less than 6s"},
		{name: "gained when a member went, within the handover", key: fromC,
			tenure: with(func(t *Tenure) {
				t.Epochs = []Epoch{{Since: now.Add(-time.Minute), Members: abc}, {Since: now.Add(-3 * time.Second), Members: ab}}
			}), want: "moved here from replica c"},
		{name: "gained when a member went, after the handover", key: fromC,
			tenure: with(func(t *Tenure) {
				t.Epochs = []Epoch{{Since: now.Add(-time.Minute), Members: abc}, {Since: now.Add(-6 * time.Second), Members: ab}}
			})},
		{name: "lost to a new member", key: toC,
			tenure: with(func(t *Tenure) {
				t.Epochs = []Epoch{{Since: now.Add(-time.Minute), Members: ab}, {Since: now.Add(-time.Second), Members: abc}}
			}), want: "replica c owns it"},
		{name: "owned all along through a change", key: mine,
			tenure: with(func(t *Tenure) {
				t.Epochs = []Epoch{{Since: now.Add(-time.Minute), Members: abc}, {Since: now.Add(-time.Second), Members: ab}}
			})},
		{name: "away and back within the handover", key: toC,
			tenure: with(func(t *Tenure) {
				t.Epochs = []Epoch{{Since: now.Add(-time.Minute), Members: ab}, {Since: now.Add(-5 * time.Second), Members: abc}, {Since: now.Add(-2 * time.Second), Members: ab}}
			}), want: "moved here from replica c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MayAct(tc.key, tc.tenure, now, times)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("MayAct = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("MayAct = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(s int) Epoch { return Epoch{Since: now.Add(time.Duration(s) * time.Second)} }
	for _, tc := range []struct {
		name   string
		epochs []Epoch
		want   int
	}{
		{"one", []Epoch{at(-60)}, 1},
		{"the one covering the window's start is kept", []Epoch{at(-60), at(-30), at(-3)}, 2},
		{"all inside the window", []Epoch{at(-5), at(-3)}, 2},
		{"one starting exactly at the window's start", []Epoch{at(-60), at(-6), at(-1)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := trim(tc.epochs, now, 6*time.Second); len(got) != tc.want || !got[len(got)-1].Since.Equal(tc.epochs[len(tc.epochs)-1].Since) {
				t.Errorf("trim kept %d epochs ending %v, want %d ending with the last", len(got), got, tc.want)
			}
		})
	}
}
