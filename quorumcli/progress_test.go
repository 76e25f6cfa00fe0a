package quorumcli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/provider"
)

// Long operations show their progress on stderr when it is a terminal (a real
// pseudo-terminal here), and write nothing of it when stderr is a pipe; --json
// output on stdout is never mixed with it.
func TestProgressOnATerminalOnly(t *testing.T) {
	t.Parallel()
	ctx, network, cfgPath, main := inProcess(t)
	main(ExitOK, "init")
	main(ExitOK, "put", "a", "0", "01")
	key, err := clientkey.Load(filepath.Join(filepath.Dir(cfgPath), "client-key"))
	if err != nil {
		t.Fatal(err)
	}
	p := network.Providers()[0]
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), ServerID: p.ServerID(), ClientKey: key, Extension: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	leaveThree := func() {
		for i := range 3 {
			leftPrepared(ctx, t, cl, time.Now().Add(-time.Hour), fmt.Sprintf("left/%d", i))
		}
	}

	// run runs Main with stderr the given file, and returns stdout and
	// everything read from the other end of stderr.
	run := func(stderrW *os.File, stderrR io.Reader, args ...string) (string, string) {
		t.Helper()
		got := make(chan string)
		go func() {
			b, _ := io.ReadAll(stderrR) // a pty's reader ends with EIO once closed
			got <- string(b)
		}()
		var stdout bytes.Buffer
		code := Main(ctx, append([]string{"--config", cfgPath}, args...), &stdout, stderrW)
		stderrW.Close()
		errOut := <-got
		if code != ExitOK {
			t.Fatalf("%q: exit %d\n%s\n%s", args, code, stdout.String(), errOut)
		}
		return stdout.String(), errOut
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"recover", "--json"}, []string{"recover: reading transaction records 3/3", "recover: settling transactions 3/3"}},
		{[]string{"audit", "--repair", "--json"}, []string{"audit: reading providers 3/3", "audit: repairing providers 3/3", "audit: after repair: reading providers 3/3"}},
	} {
		leaveThree()
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal here: %v", err)
		}
		stdout, onTerminal := run(tty, ptmx, tc.args...)
		ptmx.Close()
		for _, w := range tc.want {
			if !strings.Contains(onTerminal, w) {
				t.Errorf("%q on a terminal: stderr %q lacks %q", tc.args, onTerminal, w)
			}
		}
		if !strings.HasSuffix(onTerminal, "\r\x1b[K") {
			t.Errorf("%q on a terminal: the progress line is not cleared at the end: %q", tc.args, onTerminal)
		}
		if !json.Valid([]byte(stdout)) {
			t.Errorf("%q: stdout is not JSON:\n%s", tc.args, stdout)
		}

		leaveThree()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, piped := run(w, r, tc.args...)
		r.Close()
		if piped != "" {
			t.Errorf("%q piped: stderr %q, want nothing", tc.args, piped)
		}
		if !json.Valid([]byte(stdout)) {
			t.Errorf("%q piped: stdout is not JSON:\n%s", tc.args, stdout)
		}
	}
}
