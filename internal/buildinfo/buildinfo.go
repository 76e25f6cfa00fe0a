// Package buildinfo reports the version a binary was built from, read from the
// build information the Go toolchain embeds (module version, VCS revision), so the
// version never has to be bumped by hand and every binary reports the same one.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the main module's version: a release tag (v1.2.3) when built with
// `go install module@version`, a pseudo-version from the VCS stamp when built in a
// checkout (v0.0.0-20261201115000-abcdef123456, with +dirty for uncommitted
// changes), or "devel" when the toolchain recorded neither (go run, tests).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return version(bi)
}

// version is Version over given build information, for tests.
func version(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel-" + rev
	if modified == "true" {
		v += "+dirty"
	}
	return v
}

// String is the --version text of the command name: its version, then the Go
// toolchain and platform, as etcd prints them.
func String(name string) string {
	return fmt.Sprintf("%s version %s\ngo version %s %s/%s\n", name, Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
