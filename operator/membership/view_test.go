package membership

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

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
	key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "so"}
	fresh, stale := now.Add(-time.Second), now.Add(-20*time.Second)
	for _, tc := range []struct {
		name      string
		members   []coordinationv1.Lease
		leader    *coordinationv1.Lease
		want      Member
		wantSelf  bool
		wantError string
	}{
		{name: "no leader Lease", leader: nil, wantError: "no replica of the operator leads yet"},
		{name: "leader Lease expired", leader: ptr.To(lease("a", "", stale, 15)), members: []coordinationv1.Lease{lease("a", "10.0.0.1:9666", fresh, 15)}, wantError: "no replica of the operator leads yet"},
		{name: "this replica leads", leader: ptr.To(lease("b", "", fresh, 15)), want: self, wantSelf: true},
		{name: "another replica leads", leader: ptr.To(lease("a", "", fresh, 15)),
			members: []coordinationv1.Lease{lease("a", "10.0.0.1:9666", fresh, 15), lease("c", "10.0.0.3:9666", fresh, 15)},
			want:    Member{ID: "a", Address: "10.0.0.1:9666"}},
		{name: "the leader's membership expired", leader: ptr.To(lease("a", "", fresh, 15)),
			members: []coordinationv1.Lease{lease("a", "10.0.0.1:9666", stale, 15)}, want: Member{ID: "a"}, wantError: "leading replica a holds no live membership Lease"},
		{name: "the leader advertises no address", leader: ptr.To(lease("a", "", fresh, 15)),
			members: []coordinationv1.Lease{lease("a", "", fresh, 15)}, want: Member{ID: "a"}, wantError: "with a peer address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewView(self, tc.members, tc.leader, now)
			got, gotSelf, err := v.Owner(key)
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
		})
	}
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
