package membership

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/operator/engine"
)

// Prober checks that a member's peer endpoint answers.
type Prober interface {
	Ping(ctx context.Context, m Member) error
}

// Options configures a Registry.
type Options struct {
	Leases coordinationclient.LeasesGetter
	// Namespace holds the membership Leases and the leader Lease.
	Namespace string
	// Group is the leader election id: the leader Lease's name and the membership Leases' label.
	Group string
	Self  Member
	// LeaseDuration is how long a membership outlives its last renewal.
	LeaseDuration time.Duration
	// RenewInterval is how often the own Lease is renewed and the others read; a third of
	// LeaseDuration by default.
	RenewInterval time.Duration
	// Prober checks that the owner answers, for readiness; nil skips the check.
	Prober Prober
	// Fence times MayAct (defaults: Margin one RenewInterval, Handover three).
	Fence FenceTimes
	// Elected is closed once this replica leads (the manager's Elected()): the leader knows it
	// leads without reading its Lease back, and stays ready when the membership cannot be read
	// (a Role without list on Leases, an apiserver hiccup). Nil relies on the Lease alone.
	Elected <-chan struct{}
	Clock   clock.WithTicker
	Log     logr.Logger
}

func (o *Options) setDefaults() {
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewInterval <= 0 {
		o.RenewInterval = o.LeaseDuration / 3
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Fence.Margin <= 0 {
		o.Fence.Margin = o.RenewInterval
	}
	if o.Fence.Handover <= 0 {
		// A view is refreshed every RenewInterval: three leave room for one slow or failed read.
		o.Fence.Handover = 3 * o.RenewInterval
	}
}

// Registry keeps this replica's membership Lease renewed and the group's view current. It runs on
// every replica (it needs no leader election) and answers Owners from its latest view.
type Registry struct {
	opts Options

	mu   sync.RWMutex
	view View
	// ready is nil when this replica can answer the HPA: it has read the membership, and a peer
	// answered the last probe (or there is none).
	ready error
	// tenure is what MayAct decides on: this replica's Lease, when the view was read, and the
	// recent memberships.
	tenure Tenure
	// listeners are told of every change of the members.
	listeners []func(old, new View)
}

// NewRegistry returns a Registry; Start runs it.
func NewRegistry(opts Options) *Registry {
	opts.setDefaults()
	return &Registry{opts: opts, view: View{Self: opts.Self, Members: map[string]Member{opts.Self.ID: opts.Self}}, ready: errors.New("the membership has not been read yet"),
		tenure: Tenure{Self: opts.Self.ID}}
}

// Owner answers from the latest view.
func (r *Registry) Owner(key engine.Key) (Member, bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.view.Owner(key)
}

// Owns reports whether this replica owns key. It is false for every key until the membership has
// been read once: a starting replica, which knows only itself, does not take up every object for
// a moment only to drop most of them.
func (r *Registry) Owns(key engine.Key) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return !r.tenure.ReadAt.IsZero() && r.view.Owns(key)
}

// MayAct says whether this replica may act on key now (write its target's /scale, create its
// Jobs), and why not: see the function MayAct.
func (r *Registry) MayAct(key engine.Key) error {
	r.mu.RLock()
	t := r.tenure
	r.mu.RUnlock()
	if err := MayAct(ShardKey(key), t, r.opts.Clock.Now(), r.opts.Fence); err != nil {
		return fmt.Errorf("replica %s may not act on %s: %w", r.opts.Self.ID, key, err)
	}
	return nil
}

// OnChange adds fn to what is called, outside any lock, when the live members change. Call it
// before Start.
func (r *Registry) OnChange(fn func(old, new View)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listeners = append(r.listeners, fn)
}

// View returns the latest view.
func (r *Registry) View() View {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.view
}

// Ready is a readiness check: a replica that can reach no owner cannot answer the HPA.
func (r *Registry) Ready(*http.Request) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ready
}

// NeedLeaderElection is false: every replica is a member.
func (r *Registry) NeedLeaderElection() bool { return false }

// Start renews and reads until ctx ends, then gives the membership up.
func (r *Registry) Start(ctx context.Context) error {
	t := r.opts.Clock.NewTicker(r.opts.RenewInterval)
	defer t.Stop()
	for {
		r.refresh(ctx)
		select {
		case <-ctx.Done():
			r.release()
			return nil
		case <-t.C():
		}
	}
}

func (r *Registry) refresh(ctx context.Context) {
	r.mu.RLock()
	readAt := r.tenure.ReadAt
	r.mu.RUnlock()
	if !readAt.IsZero() && r.opts.Clock.Since(readAt) >= r.opts.Fence.Handover {
		// A replica that cannot read the others' Leases cannot act (its view is stale), yet would
		// keep its share from them while its own Lease lives: it lets the Lease run out instead,
		// and renews again after its next successful read.
		r.opts.Log.Info("not renewing the membership Lease: the membership could not be read since", "readAt", readAt)
	} else if renewed, err := r.renew(ctx); err != nil {
		r.opts.Log.Error(err, "failed to renew the membership Lease")
	} else {
		r.mu.Lock()
		r.tenure.LeaseValidUntil = renewed.Add(r.opts.LeaseDuration)
		r.mu.Unlock()
	}
	readAt = r.opts.Clock.Now()
	view, err := r.read(ctx)
	if err != nil {
		r.opts.Log.Error(err, "failed to read the membership")
		view, ready := r.View(), error(fmt.Errorf("membership unknown: %w", err))
		if r.elected() {
			view.Leader, ready = r.opts.Self.ID, nil
		}
		r.set(view, ready)
		return
	}
	if r.elected() {
		view.Leader = r.opts.Self.ID
	}
	old := r.View()
	r.mu.RLock()
	if r.tenure.ReadAt.IsZero() {
		// Before the first read this replica owned nothing (see Owns).
		old.Members = nil
	}
	r.mu.RUnlock()
	if old.Leader != view.Leader {
		r.opts.Log.Info("the leader changed", "leader", view.Leader)
	}
	r.mu.Lock()
	r.view = view
	ids := view.IDs()
	changed := len(r.tenure.Epochs) == 0 || !equal(r.tenure.Epochs[len(r.tenure.Epochs)-1].Members, ids)
	if changed {
		r.tenure.Epochs = append(r.tenure.Epochs, Epoch{Since: readAt, Members: ids})
	}
	r.tenure.ReadAt = readAt
	r.tenure.Epochs = trim(r.tenure.Epochs, r.opts.Clock.Now(), r.opts.Fence.Handover)
	listeners := r.listeners
	r.mu.Unlock()
	if changed {
		r.opts.Log.Info("the members changed: objects are split among them", "members", ids)
		for _, fn := range listeners {
			fn(old, view)
		}
	}
	// After the view is in use: probing a dead peer takes up to a renew interval, which must not
	// age the view that MayAct decides on.
	ready := r.probe(ctx, view)
	r.mu.Lock()
	r.ready = ready
	r.mu.Unlock()
}

func equal(a, b []string) bool {
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

func (r *Registry) elected() bool {
	if r.opts.Elected == nil {
		return false
	}
	select {
	case <-r.opts.Elected:
		return true
	default:
		return false
	}
}

func (r *Registry) set(v View, ready error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.view, r.ready = v, ready
}

// probe checks that the other members answer, at once. A replica that reaches none of them is
// cut off (its HPA requests for their objects would all fail) and is not ready; one that reaches
// some is: the one it cannot reach is likely the one at fault, and its Lease will expire.
func (r *Registry) probe(ctx context.Context, v View) error {
	if r.opts.Prober == nil {
		return nil
	}
	var others []Member
	for _, id := range v.IDs() {
		if id != v.Self.ID {
			others = append(others, v.Members[id])
		}
	}
	if len(others) == 0 {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, r.opts.RenewInterval)
	defer cancel()
	errs := make([]error, len(others))
	var wg sync.WaitGroup
	for i, m := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.Address == "" {
				errs[i] = fmt.Errorf("replica %s advertises no peer address", m.ID)
			} else if err := r.opts.Prober.Ping(pctx, m); err != nil {
				errs[i] = fmt.Errorf("replica %s at %s does not answer: %w", m.ID, m.Address, err)
			}
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			r.opts.Log.Info("a peer does not answer: the HPA's requests for its objects fail here until its Lease expires", "error", err.Error())
		}
	}
	if failed == len(others) {
		return fmt.Errorf("no other replica answers: %w", errors.Join(errs...))
	}
	return nil
}

func (r *Registry) read(ctx context.Context) (View, error) {
	leases := r.opts.Leases.Leases(r.opts.Namespace)
	list, err := leases.List(ctx, metav1.ListOptions{LabelSelector: LabelGroup + "=" + r.opts.Group})
	if err != nil {
		return View{}, fmt.Errorf("failed to list the membership Leases of %s in %s: %w", r.opts.Group, r.opts.Namespace, err)
	}
	if r.elected() {
		r.collect(ctx, list.Items)
	}
	leader, err := leases.Get(ctx, r.opts.Group, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		leader = nil
	case err != nil:
		return View{}, fmt.Errorf("failed to read the leader Lease %s/%s: %w", r.opts.Namespace, r.opts.Group, err)
	}
	return NewView(r.opts.Self, list.Items, leader, r.opts.Clock.Now()), nil
}

// collect deletes the Leases of members gone without giving them up (killed, or their node lost):
// every restart is a new member, so they would pile up. Only the leader collects, and only Leases
// expired for a whole lease duration more, so that a member that is merely slow keeps its own.
func (r *Registry) collect(ctx context.Context, members []coordinationv1.Lease) {
	cutoff := r.opts.Clock.Now().Add(-r.opts.LeaseDuration)
	for i := range members {
		l := &members[i]
		if live(l, cutoff) {
			continue
		}
		err := r.opts.Leases.Leases(r.opts.Namespace).Delete(ctx, l.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &l.ResourceVersion}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			r.opts.Log.Error(err, "failed to delete the Lease of a member that is gone", "lease", l.Name)
		}
	}
}

// renew creates or renews this replica's Lease, and returns the renewTime it wrote: the Lease is
// this replica's until then plus the duration, as its peers count it.
func (r *Registry) renew(ctx context.Context) (time.Time, error) {
	leases := r.opts.Leases.Leases(r.opts.Namespace)
	name := LeaseName(r.opts.Group, r.opts.Self.ID)
	// Microseconds, as the Lease stores it, so that the peers compute the same expiry.
	now := metav1.NewMicroTime(r.opts.Clock.Now().Truncate(time.Microsecond))
	want := coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(r.opts.Self.ID),
		LeaseDurationSeconds: ptr.To(int32((r.opts.LeaseDuration + time.Second - 1) / time.Second)),
		RenewTime:            &now,
	}
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		want.AcquireTime = &now
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.opts.Namespace,
				Labels:      map[string]string{LabelGroup: r.opts.Group},
				Annotations: map[string]string{AnnotationPeerAddress: r.opts.Self.Address}},
			Spec: want,
		}, metav1.CreateOptions{})
		if err != nil {
			return time.Time{}, fmt.Errorf("failed to create the membership Lease %s/%s: %w", r.opts.Namespace, name, err)
		}
		return now.Time, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("failed to read the membership Lease %s/%s: %w", r.opts.Namespace, name, err)
	}
	want.AcquireTime = l.Spec.AcquireTime
	l.Spec = want
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Labels[LabelGroup] = r.opts.Group
	l.Annotations[AnnotationPeerAddress] = r.opts.Self.Address
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("failed to renew the membership Lease %s/%s: %w", r.opts.Namespace, name, err)
	}
	return now.Time, nil
}

// release deletes this replica's Lease on a clean shutdown, so that its peers stop counting it at
// once instead of after the lease duration.
func (r *Registry) release() {
	// Stop acting before the Lease goes: the peers take over as soon as they see it gone.
	r.mu.Lock()
	r.tenure.LeaseValidUntil = time.Time{}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	name := LeaseName(r.opts.Group, r.opts.Self.ID)
	if err := r.opts.Leases.Leases(r.opts.Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		r.opts.Log.Error(err, "failed to give up the membership Lease", "lease", name)
	}
}
