package membership

import (
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/internal/shard"
	"github.com/kedactl/kedactl/operator/engine"
)

func lease(holder, addr string, renewed time.Time, seconds int32) coordinationv1.Lease {
	l := coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
		HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To(seconds), RenewTime: &metav1.MicroTime{Time: renewed},
	}}
	if addr != "" {
		l.Annotations = map[string]string{AnnotationPeerAddress: addr}
	}
	return l
}

func TestViewOwner(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	self := Member{ID: "b", Address: "10.0.0.2:9666"}
	fresh, stale := now.Add(-time.Second), now.Add(-20*time.Second)
	abc := []string{"a", "b", "c"}
	// Keys and their owners among a, b and c, and among a and b alone.
	ofA := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: nameOwned(t, abc, "a", []string{"a", "b"}, "a")}
	ofB := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: nameOwned(t, abc, "b", []string{"a", "b"}, "b")}
	ofC := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: nameOwned(t, abc, "c", []string{"a", "b"}, "b")}
	three := []coordinationv1.Lease{lease("a", "10.0.0.1:9666", fresh, 15), lease("c", "10.0.0.3:9666", fresh, 15)}
	for _, tc := range []struct {
		name      string
		key       engine.Key
		members   []coordinationv1.Lease
		want      Member
		wantSelf  bool
		wantError string
	}{
		{name: "alone: this replica owns everything", key: ofA, want: self, wantSelf: true},
		{name: "own share", key: ofB, members: three, want: self, wantSelf: true},
		{name: "another member's share", key: ofA, members: three, want: Member{ID: "a", Address: "10.0.0.1:9666"}},
		{name: "a third member's share", key: ofC, members: three, want: Member{ID: "c", Address: "10.0.0.3:9666"}},
		{name: "an expired member owns nothing", key: ofC, members: []coordinationv1.Lease{lease("a", "10.0.0.1:9666", fresh, 15), lease("c", "10.0.0.3:9666", stale, 15)},
			want: self, wantSelf: true},
		{name: "the owner advertises no address", key: ofA, members: []coordinationv1.Lease{lease("a", "", fresh, 15)},
			want: Member{ID: "a"}, wantError: "advertises no peer address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewView(self, tc.members, nil, now)
			got, gotSelf, err := v.Owner(tc.key)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantError)
				}
			} else if err != nil {
				t.Fatalf("error = %v", err)
			}
			if got != tc.want || gotSelf != tc.wantSelf {
				t.Errorf("Owner = %+v, self %v; want %+v, self %v", got, gotSelf, tc.want, tc.wantSelf)
			}
			if v.Owns(tc.key) != tc.wantSelf {
				t.Errorf("Owns = %v, want %v", !tc.wantSelf, tc.wantSelf)
			}
		})
	}
}

// nameOwned finds a ScaledObject name in ns whose owners among each member set are as given.
func nameOwned(t *testing.T, want ...any) string {
	t.Helper()
	for i := range 10000 {
		name := fmt.Sprintf("so-%d", i)
		k := ShardKey(engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: name})
		ok := true
		for j := 0; j < len(want); j += 2 {
			ok = ok && shard.Owner(k, want[j].([]string)) == want[j+1].(string)
		}
		if ok {
			return name
		}
	}
	t.Fatalf("no name with owners %v", want)
	return ""
}

func TestViewMembersIncludeSelfAndDropExpired(t *testing.T) {
	now := time.Now()
	v := NewView(Member{ID: "me", Address: "x:1"}, []coordinationv1.Lease{
		lease("a", "a:1", now.Add(-time.Second), 15),
		lease("gone", "g:1", now.Add(-time.Minute), 15),
	}, nil, now)
	if got := strings.Join(v.IDs(), ","); got != "a,me" {
		t.Errorf("members = %s, want a,me", got)
	}
}

func TestLeaseName(t *testing.T) {
	for in, want := range map[string]string{
		"keda-operator-7d9f_1b2c":  "operator.keda.sh-member-keda-operator-7d9f-1b2c",
		"Host.Example_ABC-":        "operator.keda.sh-member-host.example-abc",
		"pod-0_0f1e2d3c-aaaa-bbbb": "operator.keda.sh-member-pod-0-0f1e2d3c-aaaa-bbbb",
	} {
		if got := LeaseName("operator.keda.sh", in); got != want {
			t.Errorf("LeaseName(%q) = %q, want %q", in, got, want)
		}
	}
}
