package quorumcli

import "github.com/spf13/cobra"

// configHelp documents the configuration file; `lss-quorum help config` shows it.
const configHelp = `The configuration file (--config, default ~/.lss-quorum/config.json) is JSON:

  {
    "providers": [
      {"name": "alice", "addr": "lss.alice.example:55551",
       "server_id": "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27",
       "tls": {"ca": "alice-ca.pem"}},
      {"name": "bob",   "addr": "127.0.0.1:55552"},
      {"name": "carol", "addr": "https://lss.carol.example:443"}
    ],
    "w": 2,
    "r": 2,
    "timeout": "10s"
  }

Fields:
  providers[].name       unique name, used in every message (required)
  providers[].addr       host:port, http://host:port, or https://host:port (TLS) (required);
                         host:port with "tls" is TLS too, http:// with "tls" is refused.
                         List each server once: two entries with one address, or
                         that init finds to have one server_id, are refused
  providers[].server_id  the provider's 33-byte public key in hex; "lss-quorum init"
                         fetches and pins it. A provider that later presents another
                         key is reported as faulty; init refuses to re-pin it
                         unless given --force.
  providers[].capability "extension" (an lssd: takes part in atomic puts) or "stock" (a
                         base-protocol-only server: plain puts of decided values);
                         "lss-quorum init" pins it with the server_id, and refuses a
                         changed one unless given --force
  providers[].tls        optional: "ca" (CA certificate, PEM), "cert" and "key" (client
                         certificate for mutual TLS, both or neither), "server_name"
  w, r                   write and read quorum; 0 or absent = a majority. Must satisfy
                         1 <= w,r <= number of providers and w + r > number of providers.
  mode                   how puts are written: "auto" (default: the atomic commit where
                         providers support the extension, plain puts otherwise), "plain"
                         (the base protocol's put on every provider) or "atomic"
  timeout                deadline of each call to a provider, e.g. "10s" (default 5s, as the library's)
  grace                  how long a read waits for lagging providers once a quorum answered
                         (default 25ms, as the library's)
  client_key             client key file (default: client-key next to the config); init
                         creates it. Same format as the Rust lss-cli's client-key.
  watermark              where the highest acknowledged version of each key is kept between
                         runs (default: <config name>.watermark.json next to the config)
  disable_encryption     true: write values in plaintext, readable by every provider.
                         Default false: every value is encrypted (XChaCha20-Poly1305,
                         key derived from the client key) before it leaves this machine
  read_legacy_plaintext  true: reads also return values stored unencrypted (written
                         with encryption disabled or by an earlier version); default
                         false: such a value fails the read
  testnet_dir            set by "testnet up": marks a file it may overwrite

Relative paths are relative to the configuration file's directory; "~/" is the home
directory (e.g. "client_key": "~/.lss/client-key" shares the Rust lss-cli's key).`

func newConfigHelpTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "The configuration file's format",
		Long:  configHelp,
	}
}
