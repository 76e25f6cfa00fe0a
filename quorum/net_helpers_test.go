package quorum_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
	"github.com/lssquorum/lss/testnet"
)

// The harness is the package's one (harness_test.go, through export_test.go);
// these are its names in this package's tests.
var (
	// callTimeout is the per-provider deadline in these tests.
	callTimeout = quorum.HarnessTimeout
	// testCtx bounds a whole test.
	testCtx = quorum.HarnessCtx
	// newKey is a fresh client key.
	newKey = quorum.HarnessKey
	// pinned is the provider configuration of a network with every server_id
	// and capability pinned.
	pinned = quorum.HarnessProviders
	// newClient is a plain-mode quorum client over a network with default
	// quorums; edits adjust the configuration.
	newClient = quorum.HarnessClient
	// startNet starts n real lssd servers on loopback; baseOnly lists
	// providers that speak only the base protocol.
	startNet = quorum.HarnessNet
	// faultSeeds is the seed list of a randomized fault test: the seeds in
	// $LSS_FAULT_SEEDS, or the defaults given.
	faultSeeds = quorum.FaultSeeds
)

// put writes plain key-values "key@version=value" through the quorum and fails
// the test if the put is not acknowledged.
func put(t *testing.T, c *quorum.Client, kvs ...provider.KV) *quorum.PutResult {
	t.Helper()
	res, err := c.Put(testCtx(t), kvs)
	if err != nil {
		t.Fatalf("put %v: %v", kvs, err)
	}
	return res
}

func kv(key string, version int64, value string) provider.KV {
	return provider.KV{Key: key, Version: version, Value: []byte(value)}
}

// get reads prefix through the quorum and fails the test on error.
func get(t *testing.T, c *quorum.Client, prefix string) *quorum.GetResult {
	t.Helper()
	res, err := c.Get(testCtx(t), prefix)
	if err != nil {
		t.Fatalf("get %q: %v", prefix, err)
	}
	return res
}

// render is entries as "key@version=value" strings.
func render[E provider.Entry | provider.KV](es []E) []string {
	out := []string{}
	for _, e := range es {
		switch x := any(e).(type) {
		case provider.Entry:
			out = append(out, fmt.Sprintf("%s@%d=%s", x.Key, x.Version, x.Value))
		case provider.KV:
			out = append(out, fmt.Sprintf("%s@%d=%s", x.Key, x.Version, x.Value))
		}
	}
	return out
}

// wantEntries checks merged entries against "key@version=value" strings.
func wantEntries(t *testing.T, res *quorum.GetResult, want ...string) {
	t.Helper()
	if got := render(res.Entries); !slices.Equal(got, want) {
		t.Errorf("entries = %v, want %v", got, want)
	}
}

// state returns the named provider's state or fails the test.
func state(t *testing.T, res *quorum.GetResult, name string) quorum.ProviderState {
	t.Helper()
	s, ok := res.Provider(name)
	if !ok {
		t.Fatalf("no state for provider %s", name)
	}
	return s
}

// wantStatus checks the status of each named provider.
func wantStatus(t *testing.T, res *quorum.GetResult, want map[string]quorum.Status) {
	t.Helper()
	for name, st := range want {
		if s := state(t, res, name); s.Status != st {
			t.Errorf("%s status = %v (err %v), want %v", name, s.Status, s.Err, st)
		}
	}
}

// direct reads prefix from one provider on its own, bypassing the quorum.
func direct(t *testing.T, p *testnet.Provider, key *secp256k1.PrivateKey, prefix string) []provider.Entry {
	t.Helper()
	ctx := testCtx(t)
	cl, err := provider.Dial(ctx, provider.Options{Addr: p.Addr(), Name: p.Name(), ServerID: p.ServerID(), ClientKey: key, DialTimeout: callTimeout,
		Format: provider.FormatQuorum, Extension: !p.BaseOnly()})
	if err != nil {
		t.Fatalf("dial %s: %v", p.Name(), err)
	}
	defer cl.Close()
	es, err := cl.Get(ctx, prefix)
	if err != nil {
		t.Fatalf("direct get from %s: %v", p.Name(), err)
	}
	return decrypted(t, key, es)
}

// decrypted opens the envelopes of es, as the quorum client does with what Get
// returns (values written without encryption are left as they are).
func decrypted(t *testing.T, key *secp256k1.PrivateKey, es []provider.Entry) []provider.Entry {
	t.Helper()
	secret := wire.CLIHMACSecret(key)
	cipher, err := envelope.New(secret[:], envelope.Options{LegacyPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if es[i].Value, err = cipher.Decrypt(e.Key, e.Version, e.Value); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// wantIdentical checks that every provider holds exactly want (key, version,
// plain value) and the same stored bytes.
func wantIdentical(t *testing.T, net *testnet.Network, key *secp256k1.PrivateKey, prefix string, want ...string) {
	t.Helper()
	var first []provider.Entry
	for i, p := range net.Providers() {
		es := direct(t, p, key, prefix)
		if got := render(es); !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", p.Name(), got, want)
		}
		if i == 0 {
			first = es
			continue
		}
		for j := range min(len(es), len(first)) {
			if !bytes.Equal(es[j].Stored, first[j].Stored) {
				t.Errorf("%s stores %q differently from %s", p.Name(), es[j].Key, net.Providers()[0].Name())
			}
		}
	}
}

// settle waits for the writes a client left in flight after W acknowledged, so
// that every reachable provider holds them.
func settle(t *testing.T, c *quorum.Client) {
	t.Helper()
	if err := c.Settle(testCtx(t)); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// stop stops the providers, failing the test if one does not stop.
func stop(t *testing.T, ps ...*testnet.Provider) {
	t.Helper()
	for _, p := range ps {
		if err := p.Stop(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// restart starts the providers again on their data, failing the test if one
// does not start.
func restart(t *testing.T, ps ...*testnet.Provider) {
	t.Helper()
	for _, p := range ps {
		if err := p.Restart(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot copies p's data, for a rollback later.
func snapshot(t *testing.T, p *testnet.Provider) testnet.Snapshot {
	t.Helper()
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// snapshotAll snapshots every provider's data.
func snapshotAll(t *testing.T, ps []*testnet.Provider) []testnet.Snapshot {
	t.Helper()
	var snaps []testnet.Snapshot
	for _, p := range ps {
		snaps = append(snaps, snapshot(t, p))
	}
	return snaps
}

// rollback puts p back to snap, as a provider restored from an old backup (or
// lying about its state) would be.
func rollback(t *testing.T, p *testnet.Provider, snap testnet.Snapshot) {
	t.Helper()
	if err := p.Rollback(testCtx(t), snap); err != nil {
		t.Fatal(err)
	}
}

// rollbackAll puts every provider back to its snapshot (snapshotAll).
func rollbackAll(t *testing.T, ps []*testnet.Provider, snaps []testnet.Snapshot) {
	t.Helper()
	for i, p := range ps {
		rollback(t, p, snaps[i])
	}
}
