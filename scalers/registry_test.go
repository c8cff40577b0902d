package scalers

import (
	"slices"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

// Every trigger type meta checks has a scaler, and every scaler has meta's metadata: the two
// registries name the same types.
func TestRegistriesAgree(t *testing.T) {
	if got, want := Types(), meta.Types(); !slices.Equal(got, want) {
		t.Errorf("scalers register %v, meta %v", got, want)
	}
}
