// Package version reports the build's version, set at link time with
// -ldflags "-X github.com/kedactl/kedactl/internal/version.version=v1.2.3".
package version

import "runtime/debug"

// version is set by the linker; it is never written at run time.
var version = ""

// Get returns the build's version: the linker's value, else the module version, else "dev".
func Get() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
