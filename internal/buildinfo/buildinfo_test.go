package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	for _, tc := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.3", rev, "v1.2.3"},
		{"v0.0.0-20261201115000-0123456789ab+dirty", nil, "v0.0.0-20261201115000-0123456789ab+dirty"},
		{"(devel)", rev, "devel-0123456789ab"},
		{"", append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "devel-0123456789ab+dirty"},
		{"(devel)", nil, "devel"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tc.main}, Settings: tc.settings}
		if got := version(bi); got != tc.want {
			t.Errorf("version(%q, %v) = %q, want %q", tc.main, tc.settings, got, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	s := String("lssd")
	if !strings.HasPrefix(s, "lssd version "+Version()+"\ngo version go") {
		t.Fatalf("String = %q", s)
	}
}
