package engine

import (
	"context"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// TestEngineGivesItsClientPoolToEveryTrigger: the operator's one pool reaches every scaler's
// Config, so that triggers on one source share its connection; a Config that names its own
// pool keeps it.
func TestEngineGivesItsClientPoolToEveryTrigger(t *testing.T) {
	pool, own := scalers.NewClientPool(), scalers.NewClientPool()
	var got []*scalers.ClientPool
	e := New(Options{Clients: pool, NewScaler: func(ctx context.Context, cfg *scalers.Config) (scalers.Scaler, error) {
		got = append(got, cfg.Clients)
		return (&factory{}).new(ctx, cfg)
	}})
	withOwn := trigger(1, "other")
	withOwn.Clients = own
	reg := Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, "jobs"), withOwn}}
	e.Register(context.Background(), Key{Kind: KindScaledObject, Namespace: "ns", Name: "a"}, reg)
	if len(got) != 2 || got[0] != pool || got[1] != own {
		t.Fatalf("the scalers got pools %v, want the engine's then the trigger's own", got)
	}
	if reg.Triggers[0].Clients != nil {
		t.Error("the engine wrote into the caller's Config")
	}
}
