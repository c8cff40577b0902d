package membership

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/operator/engine"
)

type prober struct{ err error }

func (p prober) Ping(context.Context, Member) error { return p.err }

// The registry writes its own Lease, finds the owners among the members and is ready only when it
// can reach a peer.
func TestRegistryRefresh(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	kube := fake.NewClientset(
		&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName("grp", "a"), Namespace: "keda", Labels: map[string]string{LabelGroup: "grp"}, Annotations: map[string]string{AnnotationPeerAddress: "10.0.0.1:9666"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("a"), LeaseDurationSeconds: ptr.To(int32(15)), RenewTime: &metav1.MicroTime{Time: now}}},
	)
	p := &prober{err: errors.New("connection refused")}
	r := NewRegistry(Options{Leases: kube.CoordinationV1(), Namespace: "keda", Group: "grp", Self: Member{ID: "b", Address: "10.0.0.2:9666"}, Prober: p, Clock: clocktesting.NewFakeClock(now)})
	var changes []string
	r.OnChange(func(old, new View) {
		changes = append(changes, strings.Join(old.IDs(), ",")+" -> "+strings.Join(new.IDs(), ","))
	})

	r.refresh(ctx)
	own, err := kube.CoordinationV1().Leases("keda").Get(ctx, LeaseName("grp", "b"), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("own Lease: %v", err)
	}
	if *own.Spec.HolderIdentity != "b" || own.Annotations[AnnotationPeerAddress] != "10.0.0.2:9666" || own.Labels[LabelGroup] != "grp" {
		t.Errorf("own Lease = %+v", own)
	}
	ofA := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: nameOwned(t, []string{"a", "b"}, "a")}
	owner, self, err := r.Owner(ofA)
	if err != nil || self || owner.Address != "10.0.0.1:9666" {
		t.Errorf("Owner = %+v, %v, %v; want a at 10.0.0.1:9666", owner, self, err)
	}
	if err := r.Ready(nil); err == nil || !strings.Contains(err.Error(), "replica a at 10.0.0.1:9666 does not answer") {
		t.Errorf("Ready = %v, want the unreachable peer named", err)
	}
	if got := strings.Join(changes, "; "); got != " -> a,b" {
		t.Errorf("changes = %q, want the first read's", got)
	}
	p.err = nil
	r.refresh(ctx)
	if err := r.Ready(nil); err != nil {
		t.Errorf("Ready = %v once the peer answers", err)
	}
	if len(changes) != 1 {
		t.Errorf("changes = %q: a refresh that changed no member announced one", changes)
	}

	r.release()
	if _, err := kube.CoordinationV1().Leases("keda").Get(ctx, LeaseName("grp", "b"), metav1.GetOptions{}); err == nil {
		t.Error("the own Lease outlived release")
	}
}

// MayAct follows the registry's Lease and views: not before a handover of views, not after the
// Lease could not be renewed, not after it is given up.
func TestRegistryMayAct(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	kube := fake.NewClientset()
	r := NewRegistry(Options{Leases: kube.CoordinationV1(), Namespace: "keda", Group: "grp", Self: Member{ID: "b", Address: "x:1"},
		LeaseDuration: 15 * time.Second, RenewInterval: 2 * time.Second, Clock: clk})
	key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "so"}

	if err := r.MayAct(key); err == nil || !strings.Contains(err.Error(), "no membership Lease yet") {
		t.Fatalf("before any refresh: MayAct = %v", err)
	}
	r.refresh(ctx)
	if err := r.MayAct(key); err == nil || !strings.Contains(err.Error(), "for less than 6s") {
		t.Fatalf("just started: MayAct = %v", err)
	}
	for range 3 {
		clk.Step(2 * time.Second)
		r.refresh(ctx)
	}
	if err := r.MayAct(key); err != nil {
		t.Fatalf("after a handover of views: MayAct = %v", err)
	}
	// The apiserver stops answering: the view goes stale first, then the Lease runs out.
	kube.PrependReactor("*", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	clk.Step(2 * time.Second)
	r.refresh(ctx)
	if err := r.MayAct(key); err != nil {
		t.Fatalf("one failed refresh: MayAct = %v", err)
	}
	clk.Step(4 * time.Second)
	r.refresh(ctx)
	if err := r.MayAct(key); err == nil || !strings.Contains(err.Error(), "view of the membership is 6s old") {
		t.Fatalf("reads failing for a handover: MayAct = %v", err)
	}
	clk.Step(10 * time.Second)
	if err := r.MayAct(key); err == nil || !strings.Contains(err.Error(), "could not be renewed in time") {
		t.Fatalf("Lease out: MayAct = %v", err)
	}
	kube.ReactionChain = kube.ReactionChain[1:]
	for range 4 {
		clk.Step(2 * time.Second)
		r.refresh(ctx)
	}
	if err := r.MayAct(key); err != nil {
		t.Fatalf("back: MayAct = %v", err)
	}
	r.release()
	if err := r.MayAct(key); err == nil {
		t.Fatal("after release: MayAct = nil")
	}
}

// The leader stays ready and answers for itself when it cannot list the membership (an older Role
// without list on Leases): the replicas that cannot find it are the ones not ready.
func TestRegistryLeaderReadyWithoutMembership(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("leases is forbidden")
	})
	elected := make(chan struct{})
	r := NewRegistry(Options{Leases: kube.CoordinationV1(), Namespace: "keda", Group: "grp", Self: Member{ID: "a", Address: "x:1"}, Elected: elected, Clock: clocktesting.NewFakeClock(time.Now())})
	r.refresh(context.Background())
	if err := r.Ready(nil); err == nil {
		t.Error("ready before leading, with no membership read")
	}
	close(elected)
	r.refresh(context.Background())
	if err := r.Ready(nil); err != nil {
		t.Errorf("the leader is not ready: %v", err)
	}
	if _, self, err := r.Owner(engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "so"}); !self || err != nil {
		t.Errorf("Owner: self %v, %v; want this replica", self, err)
	}
}

// The leader deletes the Leases of members long gone, and only those.
func TestRegistryLeaderCollectsGoneMembers(t *testing.T) {
	now := time.Now()
	member := func(id string, renewed time.Time) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName("grp", id), Namespace: "keda", Labels: map[string]string{LabelGroup: "grp"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(id), LeaseDurationSeconds: ptr.To(int32(15)), RenewTime: &metav1.MicroTime{Time: renewed}}}
	}
	kube := fake.NewClientset(member("live", now), member("just-expired", now.Add(-20*time.Second)), member("gone", now.Add(-time.Minute)))
	elected := make(chan struct{})
	close(elected)
	r := NewRegistry(Options{Leases: kube.CoordinationV1(), Namespace: "keda", Group: "grp", Self: Member{ID: "me", Address: "x:1"}, LeaseDuration: 15 * time.Second, Elected: elected, Clock: clocktesting.NewFakeClock(now)})
	r.refresh(context.Background())
	list, err := kube.CoordinationV1().Leases("keda").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list.Items {
		names = append(names, *l.Spec.HolderIdentity)
	}
	if got := strings.Join(names, ","); got != "just-expired,live,me" {
		t.Errorf("members left = %s, want just-expired,live,me", got)
	}
}

// A replica that can renew its Lease but not read the others' lets its Lease run out, so that its
// share moves to replicas that can act on it; it renews again once it reads.
func TestRegistryStopsRenewingWhenItCannotRead(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	kube := fake.NewClientset()
	r := NewRegistry(Options{Leases: kube.CoordinationV1(), Namespace: "keda", Group: "grp", Self: Member{ID: "b", Address: "x:1"},
		LeaseDuration: 15 * time.Second, RenewInterval: 2 * time.Second, Clock: clk})
	renewed := func() time.Time {
		l, err := kube.CoordinationV1().Leases("keda").Get(ctx, LeaseName("grp", "b"), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return l.Spec.RenewTime.Time
	}
	r.refresh(ctx)
	kube.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("leases is forbidden")
	})
	var last time.Time
	for range 2 { // 4s of failed reads: less than the handover (6s)
		clk.Step(2 * time.Second)
		r.refresh(ctx)
		last = renewed()
	}
	if want := clk.Now(); !last.Equal(want.Truncate(time.Microsecond)) {
		t.Fatalf("within a handover of failed reads the Lease was renewed at %s, want %s", last, want)
	}
	for range 5 {
		clk.Step(2 * time.Second)
		r.refresh(ctx)
	}
	if got := renewed(); !got.Equal(last) {
		t.Fatalf("the Lease was renewed at %s though the membership could not be read since %s", got, last)
	}
	kube.ReactionChain = kube.ReactionChain[1:]
	clk.Step(2 * time.Second)
	r.refresh(ctx) // reads again
	clk.Step(2 * time.Second)
	r.refresh(ctx) // and so renews
	if got := renewed(); !got.After(last) {
		t.Fatalf("the Lease was not renewed after a successful read (renewed %s)", got)
	}
}
