package quorum

import (
	"context"
	"time"

	"github.com/lssquorum/lss/provider"
)

// Open is New followed by settling what an earlier process of this client left
// (docs/design.md, "Recovery"): in atomic mode it recovers the transactions left
// prepared on the providers, bounded by three call timeouts and by ctx. The
// transactions it cannot settle yet (a provider is down) or leaves alone
// (younger than a coordinator's deadline: a live coordinator elsewhere may still
// be deciding them) are handed to the client's background settler, which
// recovers them once they can be decided, until Config.SettleDeadline.
//
// The report says what was found and done; it is nil in plain mode. Open fails
// only when New does: providers that are down do not stop a signer from
// starting, and Get and Put say what they can and cannot do.
func Open(ctx context.Context, cfg Config) (*Client, *RecoveryReport, error) {
	c, err := New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if !c.useAtomic() {
		return c, nil, nil
	}
	rctx, cancel := context.WithTimeout(ctx, 3*c.timeout)
	defer cancel()
	report, err := c.RecoverWith(rctx, RecoverOptions{LeaveYoung: true})
	if err != nil {
		c.log.Warn("quorum open: recovery did not run", "err", err)
		return c, report, nil
	}
	for _, tx := range report.Transactions {
		if !tx.Settled {
			c.adopt(tx.TxID, tx.Entries, time.Now().Add(backoff(0)))
		}
	}
	for _, tx := range report.Young {
		c.adopt(tx.TxID, tx.Entries, txBorn(tx.TxID).Add(c.youngWindow()))
	}
	if len(report.Transactions)+len(report.Young) > 0 {
		c.log.Info("quorum open: settled what an earlier process left",
			"recovered", len(report.Transactions), "young", len(report.Young), "unreachable", len(report.Unreachable))
	}
	return c, report, nil
}

// adopt hands a transaction this process did not coordinate to the settler,
// to be recovered from at.
func (c *Client) adopt(txid []byte, entries []provider.Entry, at time.Time) {
	t := &txRun{c: c, txid: txid, entries: entries}
	c.handOff(t, Undecided, nil, nil)
	s := &c.settler
	s.mu.Lock()
	if j := s.jobs[string(txid)]; j != nil && j.next.Before(at) {
		j.next, j.notBefore = at, at
	}
	s.mu.Unlock()
}
