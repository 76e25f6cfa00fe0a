package quorum_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/quorum"
	"github.com/lssquorum/lss/quorum/envelope"
	"github.com/lssquorum/lss/testnet"
)

// callTimeout is the per-provider deadline in these tests: short, so a test
// that waits on a dead provider stays fast, and long enough for -race on a
// small machine.
const callTimeout = 2 * time.Second

// testCtx bounds a whole test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startNet starts n real lssd servers on loopback; baseOnly lists providers that
// speak only the base protocol.
func startNet(t *testing.T, n int, baseOnly ...int) *testnet.Network {
	t.Helper()
	net, err := testnet.Start(testCtx(t), testnet.Config{N: n, BaseOnly: baseOnly, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() { net.Close() })
	return net
}

func newKey(t *testing.T) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pinned is the provider configuration of net with every server_id and
// capability pinned.
func pinned(net *testnet.Network) []quorum.ProviderConfig {
	var ps []quorum.ProviderConfig
	for _, p := range net.Providers() {
		ps = append(ps, quorum.ProviderConfig{Name: p.Name(), Addr: p.Addr(), ServerID: p.ServerID(), Stock: p.BaseOnly()})
	}
	return ps
}

// newClient is a plain-mode quorum client over net with default quorums; edit
// adjusts the configuration.
func newClient(t *testing.T, net *testnet.Network, key *secp256k1.PrivateKey, edit ...func(*quorum.Config)) *quorum.Client {
	t.Helper()
	cfg := quorum.Config{
		Providers: pinned(net),
		ClientKey: key,
		Timeout:   callTimeout,
		// As long as a call may take: the tests want to see every provider
		// that answers at all, even a busy machine's first dial after a
		// restart. Tests about slow providers set their own.
		Grace:  callTimeout,
		Mode:   quorum.ModePlain,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := quorum.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("quorum.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

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
