package e2e

import (
	"fmt"
	"testing"
)

// TestNewRelicScalesZeroToMaxToZero: a new-relic trigger whose user key comes from a Secret
// through a TriggerAuthentication runs its NRQL query on the NerdGraph fake (the operator's
// NEW_RELIC_NERDGRAPH_BASE_URL points there). A count at the activation threshold leaves the
// worker at 0; above it 0 -> 1; a large count takes the real HPA to the maximum of 4; no rows
// (noDataError false: the value is 0) bring it back to 0 after the cooldown.
func TestNewRelicScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	nr := s.newRelic
	// The fake is the suite's: this test's own account and key.
	const (
		key     = "NRAK-e2e-new-relic-user-key"
		account = 3141592
		nrql    = "SELECT count(*) FROM QueueSample WHERE queue = 'orders' SINCE 1 minute ago"
	)
	nr.AddKey(key, account)
	nr.SetCount(account, nrql, 2)
	polls := func() (n int) {
		for _, r := range nr.Requests() {
			if r.AccountID == account && r.Status == 200 {
				n++
			}
		}
		return n
	}

	s.runScalerJourney(t, scalerJourney{
		namespace:   "newrelic",
		secret:      "new-relic-secret",
		auth:        "new-relic-auth",
		params:      []secretParam{{"queryKey", "queryKey", key}},
		triggerType: "new-relic",
		metadata: fmt.Sprintf(`account: "%d"
			region: EU
			nrql: %q
			threshold: "5"
			activationThreshold: "2"`, account, nrql),
		metric:       "s0-new-relic",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { nr.SetCount(account, nrql, float64(n)) },
		polls:        polls,
		// A count at activationThreshold 2, 3 above it, and 100 / 5 per replica = 20.
		idle: 2, one: 3, max: 100,
		// The query finds no rows any more: 0 (noDataError is false).
		drain: func(*testing.T) { nr.SetRows(account, nrql) },
	})

	// Every request of this account carried the key from the Secret, in NerdGraph's Api-Key
	// header, and the trigger's query.
	for _, r := range nr.Requests() {
		if r.AccountID == account && (r.APIKey != key || r.NRQL != nrql || r.Method != "POST" || r.Path != "/graphql" || r.Status != 200) {
			t.Fatalf("request %+v", r)
		}
	}
}
