package shard

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Key("ScaledObject", fmt.Sprintf("ns-%d", i%7), fmt.Sprintf("app-%d", i))
	}
	return out
}

func assign(ks, members []string) map[string]string {
	out := make(map[string]string, len(ks))
	for _, k := range ks {
		out[k] = Owner(k, members)
	}
	return out
}

func TestOwnerSplitsEvenly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []string
	}{
		{"three pods", []string{"keda-operator-7c9f-abcde_1", "keda-operator-7c9f-fghij_2", "keda-operator-7c9f-klmno_3"}},
		{"three similar ids", []string{"a", "b", "c"}},
		{"five", []string{"r1", "r2", "r3", "r4", "r5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := keys(10000)
			count := map[string]int{}
			for _, owner := range assign(ks, tc.members) {
				count[owner]++
			}
			want := len(ks) / len(tc.members)
			for _, m := range tc.members {
				// Within 5% of an even share: a binomial's spread at these sizes is about 1%.
				if d := count[m] - want; d > want/20 || d < -want/20 {
					t.Errorf("member %s owns %d of %d keys, want %d within 5%%", m, count[m], len(ks), want)
				}
			}
		})
	}
}

func TestOwnerMovesOnlyWhatItMust(t *testing.T) {
	ks := keys(10000)
	three := []string{"r1", "r2", "r3"}
	before := assign(ks, three)

	t.Run("removing a member moves only its keys", func(t *testing.T) {
		after := assign(ks, []string{"r1", "r3"})
		for _, k := range ks {
			if before[k] != "r2" && after[k] != before[k] {
				t.Fatalf("key %s moved from %s to %s though its owner stayed", k, before[k], after[k])
			}
			if after[k] == "r2" {
				t.Fatalf("key %s still owned by the removed member", k)
			}
		}
	})
	t.Run("adding a member moves about 1/N to it and nothing else", func(t *testing.T) {
		after := assign(ks, []string{"r1", "r2", "r3", "r4"})
		moved := 0
		for _, k := range ks {
			if after[k] != before[k] {
				moved++
				if after[k] != "r4" {
					t.Fatalf("key %s moved from %s to %s, not to the new member", k, before[k], after[k])
				}
			}
		}
		if want := len(ks) / 4; moved < want*9/10 || moved > want*11/10 {
			t.Errorf("%d keys moved to the new member, want about %d", moved, want)
		}
	})
}

func TestOwner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []string
		want    string
	}{
		{"no members", nil, ""},
		{"one member", []string{"only"}, "only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Owner("ScaledObject/default/app", tc.members); got != tc.want {
				t.Errorf("Owner = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("order does not matter", func(t *testing.T) {
		for _, k := range keys(100) {
			if a, b := Owner(k, []string{"x", "y", "z"}), Owner(k, []string{"z", "x", "y"}); a != b {
				t.Fatalf("key %s: %s for one order, %s for another", k, a, b)
			}
		}
	})
	t.Run("the kind keeps a ScaledJob apart from a ScaledObject of its name", func(t *testing.T) {
		differ := false
		for i := range 50 {
			name := fmt.Sprintf("app-%d", i)
			differ = differ || Owner(Key("ScaledObject", "ns", name), []string{"a", "b", "c"}) != Owner(Key("ScaledJob", "ns", name), []string{"a", "b", "c"})
		}
		if !differ {
			t.Error("every ScaledJob has the owner of its ScaledObject namesake: the kind is not hashed")
		}
	})
}

func TestLive(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	lease := func(renewed time.Duration, seconds int32) *coordinationv1.Lease {
		l := &coordinationv1.Lease{}
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(now.Add(renewed)))
		l.Spec.LeaseDurationSeconds = ptr.To(seconds)
		return l
	}
	for _, tc := range []struct {
		name  string
		lease *coordinationv1.Lease
		want  bool
	}{
		{"renewed just now", lease(0, 15), true},
		{"renewed 14s ago of 15", lease(-14*time.Second, 15), true},
		{"expired at now", lease(-15*time.Second, 15), false},
		{"never renewed", &coordinationv1.Lease{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Live(tc.lease, now); got != tc.want {
				t.Errorf("Live = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkOwner(b *testing.B) {
	members := []string{"keda-operator-7c9f-abcde_1", "keda-operator-7c9f-fghij_2", "keda-operator-7c9f-klmno_3"}
	for b.Loop() {
		Owner("ScaledObject/default/my-application", members)
	}
}
