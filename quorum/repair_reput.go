package quorum

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/provider"
)

// ErrNotAcknowledged is returned by Reput for a key-value that is not exactly
// what the watermark says was acknowledged.
var ErrNotAcknowledged = errors.New("not the acknowledged version and value")

// Reput writes kvs again at exactly their acknowledged versions with the
// acknowledged values: the way back after every provider rolled back (or lost)
// writes that the signer still knows. Each kv must match the watermark, version
// and value digest; nothing else can be written this way, so it cannot be used
// to put an older or another value in place.
//
// In atomic mode the values go as one transaction of their own with commit
// proofs (the watermark's digests show them acknowledged), since only certified
// values are read there.
//
// The values are copied with the forward-only Restore, as Repair does (a plain
// Put would be refused: the providers hold an older version than the next one),
// to every provider that holds the key at a lower version; a provider without
// the Restore extension gets a plain Put where the version is its next one.
// Keys under the longest common prefix of kvs that other providers hold newer
// are repaired along the way. Reput then reads the prefix back: its error is
// the read's (nil once a read quorum holds the acknowledged state again).
func (c *Client) Reput(ctx context.Context, kvs []provider.KV) (*RepairReport, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkKVs(kvs); err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		m, ok := c.mark.get(kv.Key)
		if !ok || m.Version != kv.Version || m.Digest == nil || !m.matches(kv.Value) {
			return nil, fmt.Errorf("quorum reput: %q v%d: %w (the watermark holds %s)", kv.Key, kv.Version, ErrNotAcknowledged, describeMark(m, ok))
		}
	}
	entries := c.seal(kvs)
	if c.useAtomic() {
		// Atomic mode reads only certified values: the acknowledged values
		// are written again as a transaction of their own, certified at once
		// (they are known acknowledged: the watermark holds their digests).
		txid := c.newTxID()
		entries = c.certified(txid, c.sealTx(txid, kvs))
	}
	prefix := commonPrefix(entries)
	mark, confirmed := c.mark.snapshot(), c.confirmedMarks()
	replies, _ := c.readable(c.gather(ctx, prefix, c.n, 0))
	// The acknowledged entries join the merge as one more (trusted) reply, so
	// they win over the rolled-back versions and every provider holding less
	// is planned for a Restore.
	withAcked := append(replies, reply{name: "\x00acknowledged", entries: entries})
	m := merge(withAcked, mark, c.w)
	m.states = m.states[:len(replies)]
	c.checkProviders(prefix, replies, m, confirmed, mark)
	report := c.repair(ctx, prefix, m.merged, m.states, nil)
	if err := c.saveWatermarks(ctx); err != nil {
		return report, err
	}
	_, err := c.Get(ctx, prefix)
	return report, err
}

// describeMark says what the watermark holds for a key.
func describeMark(m Mark, ok bool) string {
	switch {
	case !ok:
		return "nothing for it"
	case m.Digest == nil:
		return fmt.Sprintf("v%d without a value digest", m.Version)
	}
	return fmt.Sprintf("v%d with another value", m.Version)
}

// commonPrefix is the longest prefix shared by every entry's key.
func commonPrefix(es []provider.Entry) string {
	if len(es) == 0 {
		return ""
	}
	p := es[0].Key
	for _, e := range es[1:] {
		for !strings.HasPrefix(e.Key, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
