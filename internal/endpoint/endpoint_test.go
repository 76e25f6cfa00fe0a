package endpoint

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want Endpoint
	}{
		{"127.0.0.1:55551", Endpoint{HostPort: "127.0.0.1:55551", Host: "127.0.0.1", Port: 55551}},
		{"http://localhost:1", Endpoint{HostPort: "localhost:1", Host: "localhost", Port: 1}},
		{"https://lss.example:443", Endpoint{HostPort: "lss.example:443", Host: "lss.example", Port: 443, TLS: true}},
		{"https://lss.example:443/", Endpoint{HostPort: "lss.example:443", Host: "lss.example", Port: 443, TLS: true}},
		{"[::1]:9", Endpoint{HostPort: "[::1]:9", Host: "::1", Port: 9}},
	}
	for _, c := range good {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, says string }{
		{"", "no address"},
		{"localhost", "want host:port"},
		{"https://lss.example", "want host:port"},
		{":55551", "no host"},
		{"localhost:0", "port must be"},
		{"localhost:70000", "port must be"},
		{"localhost:http", "port must be"},
		{"ftp://h:1", "scheme"},
		{"https://h:1/path", "only scheme://host:port"},
		{"https://u@h:1", "only scheme://host:port"},
		{"http://h:1?q", "only scheme://host:port"},
		{"http://h", "want host:port"},
	}
	for _, c := range bad {
		_, err := Parse(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Parse(%q) error = %v; want one saying %q", c.in, err, c.says)
		}
	}
}
