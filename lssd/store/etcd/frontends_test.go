package etcd_test

import (
	"testing"

	"github.com/lssquorum/lss/internal/frontrace"
	"github.com/lssquorum/lss/internal/testdb"
	"github.com/lssquorum/lss/lssd"
)

// Two lssd front-ends on one etcd cluster keep the version rule.
func TestTwoFrontEnds(t *testing.T) {
	endpoints := testdb.EtcdEndpoints(t)
	frontrace.Run(t, func(o *lssd.Options) {
		o.Database = "etcd"
		o.EtcdEndpoints = endpoints
	})
}
