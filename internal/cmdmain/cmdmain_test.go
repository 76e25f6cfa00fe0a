package cmdmain

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// tree is a root with one subcommand, set up as the three commands are.
func tree() *cobra.Command {
	root := &cobra.Command{Use: "prog", Args: cobra.ArbitraryArgs, RunE: HelpOrUnknown}
	Setup(root)
	root.AddCommand(&cobra.Command{Use: "sub", Short: "a subcommand", Args: NoArgs, RunE: func(*cobra.Command, []string) error { return nil }})
	return root
}

func exitCode(err error) int {
	if IsUsage(err) {
		return ExitUsage
	}
	if err != nil {
		return 1
	}
	return 0
}

// help and completion know what they know: an unknown topic or shell is a
// usage error (exit 2, the message, the usage line), not their help with 0.
func TestHelpAndCompletionRefuseWhatTheyDoNotKnow(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout for 0, in stderr otherwise
	}{
		{[]string{"help"}, 0, "Available Commands:"},
		{[]string{"help", "sub"}, 0, "a subcommand"},
		{[]string{"help", "bogus"}, ExitUsage, `prog: unknown help topic "bogus"` + "\nusage: prog help [command]"},
		{[]string{"help", "sub", "extra"}, ExitUsage, `unknown help topic "sub extra"`},
		{[]string{"completion"}, 0, "bash"},
		{[]string{"completion", "bash"}, 0, "bash completion"},
		{[]string{"completion", "cmd.exe"}, ExitUsage, `prog: unknown command "cmd.exe" for "prog completion"`},
		{[]string{"bogus"}, ExitUsage, `unknown command "bogus" for "prog"`},
	} {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), tree(), tc.args, &stdout, &stderr, exitCode)
		out := stdout.String()
		if tc.code != 0 {
			out = stderr.String()
		}
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("prog %q: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, tc.want, stdout.String(), stderr.String())
		}
	}
}
