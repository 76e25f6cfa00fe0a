package lssdcli

import (
	"os"
	"strings"

	"github.com/lssquorum/lss/lssd"
	"github.com/spf13/cobra"
)

// Environment variables for database connection settings, so that a password in a
// URL need not appear on the command line (where other users can see it).
const (
	postgresURLEnv   = "LSSD_POSTGRES_URL"
	etcdEndpointsEnv = "LSSD_ETCD_ENDPOINTS"
	// etcdPasswordEnv is the only way to give the etcd password: there is no flag,
	// so it never appears on the command line.
	etcdPasswordEnv = "LSSD_ETCD_PASSWORD"
)

// fromEnv fills the connection settings whose flags were not given from the
// environment. A flag, when given, wins. The etcd password has no flag and comes
// from the environment alone.
func fromEnv(cmd *cobra.Command, o *lssd.Options) {
	f := cmd.Flags()
	if v := os.Getenv(postgresURLEnv); v != "" && !f.Changed("postgres-url") {
		o.PostgresURL = v
	}
	if v := os.Getenv(etcdEndpointsEnv); v != "" && !f.Changed("etcd-endpoints") {
		o.EtcdEndpoints = splitList(v)
	}
	if v := os.Getenv(etcdPasswordEnv); v != "" {
		o.EtcdPassword = v
	}
}

// splitList splits a comma-separated list, dropping blanks around and between items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
