package lsscli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/internal/endpoint"
	"github.com/lssquorum/lss/internal/tlsfiles"
)

// DefaultRPC is the Rust lss-cli's default server.
const DefaultRPC = "http://127.0.0.1:55551"

// globals are the flags shared by every command.
type globals struct {
	rpc     string
	datadir string
	timeout time.Duration
	tlsCA   string
	tlsCert string
	tlsKey  string
}

func newRootCmd(stdout io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "lss-cli",
		Short: "Command-line client for a Lightning Storage Service (LSS) server",
		Long: `lss-cli talks to one LSS server. It keeps its client key and the server's
pinned public key in --datadir (files client-key and server-pubkey, the Rust
lss-cli's layout, so both tools can share ~/.lss). Values are written and read in
the Rust client's default format (value HMAC, then ChaCha20) with the HMAC secret
SHA256(client key). Every HMAC is checked; a failed check is an error, never data.`,
		Args: cobra.ArbitraryArgs,
		RunE: cmdmain.HelpOrUnknown,
	}
	cmdmain.Setup(root)
	defaultDir, err := clientkey.DefaultDir()
	if err != nil {
		defaultDir = clientkey.DefaultDirName
	}
	f := root.PersistentFlags()
	f.StringVar(&g.rpc, "rpc", DefaultRPC, "server: a port number on 127.0.0.1, or a URL http://host:port or https://host:port")
	f.StringVar(&g.datadir, "datadir", defaultDir, "directory of client-key and server-pubkey")
	f.DurationVar(&g.timeout, "timeout", 30*time.Second, "deadline for the whole command")
	f.StringVar(&g.tlsCA, "tls-ca", "", "PEM file of the CA that signs the server's certificate (https:// only; default: system roots)")
	f.StringVar(&g.tlsCert, "tls-cert", "", "PEM client certificate for mutual TLS (https:// only)")
	f.StringVar(&g.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	root.AddCommand(pingCmd(g, stdout), initCmd(g, stdout), infoCmd(g, stdout), putCmd(g, stdout), getCmd(g, stdout))
	return root
}

// parseRPC turns --rpc into a provider address: a bare port means
// http://127.0.0.1:PORT, as in the Rust tool.
func parseRPC(rpc string) (string, error) {
	if port, err := strconv.ParseUint(rpc, 10, 16); err == nil {
		if port == 0 {
			return "", fmt.Errorf("--rpc %q: port 0", rpc)
		}
		return "http://127.0.0.1:" + rpc, nil
	}
	if !strings.Contains(rpc, "://") {
		return "", fmt.Errorf("--rpc %q is neither a port number nor an http:// or https:// URL", rpc)
	}
	if _, err := endpoint.Parse(rpc); err != nil {
		return "", fmt.Errorf("--rpc: %w", err)
	}
	return rpc, nil
}

// tlsConfig builds the TLS configuration of the flags; nil means the provider's
// default (system roots for https://, plaintext for http://).
func (g *globals) tlsConfig(addr string) (*tls.Config, error) {
	files := tlsfiles.Files{CA: g.tlsCA, Cert: g.tlsCert, Key: g.tlsKey}
	if files.IsZero() {
		return nil, nil
	}
	ep, err := endpoint.Parse(addr)
	if err != nil || !ep.TLS {
		return nil, errors.New("--tls-ca, --tls-cert and --tls-key need an https:// --rpc URL")
	}
	cfg, err := tlsfiles.Client(files, ep.Host)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca, --tls-cert, --tls-key: %w", err)
	}
	return cfg, nil
}

func (g *globals) clientKeyPath() string { return filepath.Join(g.datadir, clientkey.ClientKeyFile) }
func (g *globals) serverKeyPath() string { return filepath.Join(g.datadir, clientkey.ServerKeyFile) }

// withTimeout bounds a command by --timeout.
func (g *globals) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}
