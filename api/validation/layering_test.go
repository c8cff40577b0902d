package validation

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAPIImportsNothingAbove: api/ is the bottom layer (types, defaults, validation rules) that the
// operator, the scalers and the plugin build on; it imports none of them (scalers/meta, the
// driver-free metadata rules, sits beside it), so that any of them can use it without dragging the
// others in.
func TestAPIImportsNothingAbove(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kedactl/kedactl/api/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, above := range []string{"github.com/kedactl/kedactl/operator", "github.com/kedactl/kedactl/scalers", "github.com/kedactl/kedactl/plugin", "github.com/kedactl/kedactl/tui"} {
			if pkg == "github.com/kedactl/kedactl/scalers/meta" {
				continue
			}
			if pkg == above || strings.HasPrefix(pkg, above+"/") {
				t.Errorf("api/ depends on %s: move what it needs below api/ (internal/) instead", pkg)
			}
		}
	}
}
