package quorum

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/lssquorum/lss/provider"
)

// Reading the providers' transaction records. A provider keeps decided records
// for days (a signer's every put leaves one), so only audit reads them all:
// recovery reads the prepared ones, then every provider's records of those
// txids, and settling a few transactions reads their records only
// (docs/protocol.md, "Narrowed Status").

// listing reads one provider's transaction records.
type listing func(ctx context.Context, cl *provider.Client) ([]provider.Transaction, error)

// allRecords lists every record: what audit needs to find split transactions.
func allRecords(ctx context.Context, cl *provider.Client) ([]provider.Transaction, error) {
	return cl.Status(ctx)
}

// pendingRecords lists the prepared transactions only.
func pendingRecords(ctx context.Context, cl *provider.Client) ([]provider.Transaction, error) {
	return cl.PendingStatus(ctx)
}

// recordsOf lists the records of txids only.
func recordsOf(txids [][]byte) listing {
	return func(ctx context.Context, cl *provider.Client) ([]provider.Transaction, error) {
		return cl.StatusOf(ctx, txids)
	}
}

// gatherPending reads what recovery needs: every provider's prepared
// transactions, then every provider's records of those txids (so that a
// transaction prepared on one provider is judged by what all of them hold of
// it). The second round asks only the providers that answered the first.
func (c *Client) gatherPending(ctx context.Context) (parts []string, lists [][]provider.Transaction, report *TxReport) {
	parts, lists, report = c.gatherRecords(ctx, nil, pendingRecords)
	ids := preparedTxIDs(lists)
	if len(ids) == 0 {
		return parts, lists, report
	}
	answered := map[string]bool{}
	for i, name := range parts {
		answered[name] = lists[i] != nil
	}
	parts, lists, second := c.gatherRecords(ctx, func(m *member) bool { return answered[m.name] }, recordsOf(ids))
	maps.Copy(report.Unreachable, second.Unreachable)
	return parts, lists, report
}

// preparedTxIDs is the txids some list holds prepared, in ascending order.
func preparedTxIDs(lists [][]provider.Transaction) [][]byte {
	var ids [][]byte
	for _, l := range lists {
		for _, tx := range l {
			if tx.State == provider.TxPrepared {
				ids = append(ids, tx.TxID)
			}
		}
	}
	slices.SortFunc(ids, bytes.Compare)
	return slices.CompactFunc(ids, bytes.Equal)
}

// gatherRecords asks the extension providers that ask accepts (nil: all) for
// their records in parallel, with list. parts names every extension provider;
// lists[i] is nil for one that did not answer (reported unreachable) or was not
// asked (not reported).
func (c *Client) gatherRecords(ctx context.Context, ask func(*member) bool, list listing) (parts []string, lists [][]provider.Transaction, report *TxReport) {
	report = &TxReport{Unreachable: map[string]string{}}
	all := make([][]provider.Transaction, c.n)
	errs := make([]error, c.n)
	asked := func(_ int, m *member) bool {
		// Stock servers are pinned so: they hold no transactions.
		return !m.stock && (ask == nil || ask(m))
	}
	c.fanOut(ctx, c.members, asked, func(cctx context.Context, i int, m *member) {
		cl, err := m.client(cctx)
		if err == nil {
			all[i], err = list(cctx, cl)
			m.noteErr(cl, err)
			var tampered *provider.TamperedError
			if errors.As(err, &tampered) {
				// Records whose values fail their HMAC are still records; only
				// their entries cannot be used for a restore.
				err = nil
			}
		}
		if err == nil && all[i] == nil {
			all[i] = []provider.Transaction{}
		}
		errs[i] = err
	})
	for i, m := range c.members {
		if m.stock {
			report.BaseOnly = append(report.BaseOnly, m.name)
			continue
		}
		parts = append(parts, m.name)
		if ask != nil && !ask(m) {
			lists = append(lists, nil)
			continue
		}
		if errs[i] != nil {
			report.Unreachable[m.name] = named(m.name, "status", errs[i]).Error()
			lists = append(lists, nil)
			continue
		}
		lists = append(lists, all[i])
	}
	return parts, lists, report
}
