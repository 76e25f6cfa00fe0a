package provider

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"google.golang.org/protobuf/proto"

	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
)

// quorumSetup is a real lssd (extension or stock) behind a tampering proxy, and a
// quorum-format client talking through it, with the shared secret so a test can
// play a lying server (valid reply MACs over altered data).
type quorumSetup struct {
	tamperSetup
	key *secp256k1.PrivateKey
}

func newQuorumSetup(t *testing.T, stock bool) *quorumSetup {
	t.Helper()
	d := startServer(t, stock)
	p := startProxy(t, d.Addr(), false)
	key := newKey(t)
	c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: key, Format: FormatQuorum, Extension: !stock})
	pub, err := secp256k1.ParsePubKey(d.ServerID())
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(key, pub)
	return &quorumSetup{tamperSetup: tamperSetup{proxy: p, client: c, secret: secret[:]}, key: key}
}

// commitTx prepares kvs under a fresh txid with a quorum and seal and commits
// them with their proofs; it returns the txid and the sealed entries.
func commitTx(t *testing.T, c *Client, kvs ...KV) ([]byte, []Entry) {
	t.Helper()
	tx := txid(t)
	es := c.SealTx(tx, kvs)
	q := Quorum{Participants: [][]byte{c.ServerID()}, W: 1}
	if state, err := c.Prepare(ctxT(t), tx, q, c.PrepareSeal(tx, q, es), es); err != nil || state != TxPrepared {
		t.Fatalf("Prepare = %v, %v", state, err)
	}
	if err := c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return tx, es
}

func TestQuorumFormatCertifiedRoundTrip(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	key := newKey(t)
	c := dialOpts(t, Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: key, Format: FormatQuorum, Extension: true})
	if err := c.Put(ctxT(t), []KV{{"plain", 0, []byte("p")}}); err != nil {
		t.Fatal(err)
	}

	tx := txid(t)
	es := c.SealTx(tx, []KV{{"b", 0, []byte("B")}, {"a", 0, []byte("A")}})
	secret := wire.CLIHMACSecret(key)
	if want := wire.NewValueMACv2(secret[:]).Seal("b", 0, tx, []byte("B")); !bytes.Equal(es[0].Stored, want) || !bytes.Equal(es[0].TxID, tx) {
		t.Fatalf("SealTx = %x (txid %x), want the v2 seal %x bound to the txid", es[0].Stored, es[0].TxID, want)
	}
	q := Quorum{Participants: [][]byte{c.ServerID()}, W: 1}
	seal := c.PrepareSeal(tx, q, es)
	if state, err := c.Prepare(ctxT(t), tx, q, seal, es); err != nil || state != TxPrepared {
		t.Fatalf("Prepare = %v, %v", state, err)
	}
	txs, err := c.Status(ctxT(t))
	if err != nil || len(txs) != 1 {
		t.Fatalf("Status = %v, %v", txs, err)
	}
	if !bytes.Equal(txs[0].Seal, seal) || !txs[0].SealValid || !bytes.Equal(txs[0].Entries[0].TxID, tx) ||
		!bytes.Equal(txs[0].Entries[0].Value, []byte("A")) || txs[0].Entries[0].Certified {
		t.Fatalf("prepared transaction = %+v; want its seal, valid, entries sealed for the txid and not certified", txs[0])
	}
	// A prepared value is readable by no one.
	got, err := c.Get(ctxT(t), "")
	if err != nil || len(got) != 1 || got[0].Key != "plain" || got[0].Certified || got[0].TxID != nil {
		t.Fatalf("Get before the commit = %+v, %v; want only the plain, uncertified value", got, err)
	}

	if err := c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)); err != nil {
		t.Fatal(err)
	}
	got, err = c.Get(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, KV{"a", 0, []byte("A")}, KV{"b", 0, []byte("B")}, KV{"plain", 0, []byte("p")})
	for _, e := range got[:2] {
		if !e.Certified || !bytes.Equal(e.TxID, tx) || !c.VerifyProof(tx, e.Key, e.Version, e.Stored, e.Proof) {
			t.Errorf("committed %q = %+v; want certified with txid and proof", e.Key, e)
		}
	}
	txs, err = c.Status(ctxT(t))
	if err != nil || txs[0].State != TxCommitted || !bytes.Equal(txs[0].Seal, seal) || len(txs[0].Entries) != 0 {
		t.Fatalf("Status after commit = %+v, %v", txs, err)
	}

	// Restore copies certified entries with their proofs to another server.
	other := startServer(t, false)
	c2 := dialOpts(t, Options{Addr: other.Addr(), ServerID: other.ServerID(), ClientKey: key, Format: FormatQuorum, Extension: true})
	if applied, _, err := c2.Restore(ctxT(t), got[:2]); err != nil || len(applied) != 2 {
		t.Fatalf("Restore = %v, %v", applied, err)
	}
	copied, err := c2.Get(ctxT(t), "")
	if err != nil || len(copied) != 2 || !copied[0].Certified || !bytes.Equal(copied[1].Stored, got[1].Stored) {
		t.Fatalf("Get of the restored copy = %+v, %v; want the same certified entries", copied, err)
	}
	// The base Put of an extension server has no place for a txid or proof.
	if err := c2.PutEntries(ctxT(t), got[:1]); err == nil {
		t.Error("PutEntries of a certified entry to an extension server succeeded; want it refused")
	}
}

// TestQuorumFormatOnStockProvider: on a stock server the quorum format stores
// txid and proof in a carrier, and callers see the same entries as from an
// extension server.
func TestQuorumFormatOnStockProvider(t *testing.T) {
	t.Parallel()
	ext := newQuorumSetup(t, false)
	_, es := commitTx(t, ext.client, KV{"k", 0, []byte("v")})
	certified, err := ext.client.Get(ctxT(t), "")
	if err != nil || len(certified) != 1 || !certified[0].Certified {
		t.Fatalf("Get = %+v, %v", certified, err)
	}

	d := startServer(t, true)
	stock := dialOpts(t, Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: ext.key, Format: FormatQuorum})
	if err := stock.PutEntries(ctxT(t), certified); err != nil {
		t.Fatal(err)
	}
	if err := stock.Put(ctxT(t), []KV{{"plain", 0, []byte("p")}}); err != nil {
		t.Fatal(err)
	}
	got, err := stock.Get(ctxT(t), "")
	if err != nil || len(got) != 2 {
		t.Fatalf("Get from the stock server = %+v, %v", got, err)
	}
	if !got[0].Certified || !bytes.Equal(got[0].Stored, es[0].Stored) || !bytes.Equal(got[0].Proof, certified[0].Proof) ||
		!bytes.Equal(got[0].TxID, certified[0].TxID) || !bytes.Equal(got[0].Value, []byte("v")) {
		t.Errorf("certified entry from the stock server = %+v, want %+v", got[0], certified[0])
	}
	if got[1].Certified || got[1].TxID != nil || !bytes.Equal(got[1].Value, []byte("p")) {
		t.Errorf("plain entry from the stock server = %+v", got[1])
	}
	// What the stock server holds is the carrier.
	raw := dialOpts(t, Options{Addr: d.Addr(), ServerID: d.ServerID(), ClientKey: ext.key, Format: FormatRust})
	_, err = raw.Get(ctxT(t), "k")
	var te *TamperedError
	if !errors.As(err, &te) {
		t.Errorf("a Rust-format read of a carrier = %v; want it refused as tampered", err)
	}
}

// TestPinnedExtensionNeverFallsBack is issue case 6: someone answering for a
// pinned extension server with UNIMPLEMENTED makes every extension call fail as
// a faulty provider, and no base Get is sent.
func TestPinnedExtensionNeverFallsBack(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	p := startProxy(t, d.Addr(), true)
	var baseGets atomic.Int32
	p.setRequest(func(method string, _ proto.Message) {
		if method == "Get" {
			baseGets.Add(1)
		}
	})
	for _, format := range []Format{FormatRust, FormatQuorum} {
		c := dialOpts(t, Options{Addr: p.addr, ServerID: d.ServerID(), ClientKey: newKey(t), Format: format, Extension: true})
		tx := txid(t)
		es := c.SealTx(tx, []KV{{"k", 0, []byte("v")}})
		_, getErr := c.Get(ctxT(t), "")
		_, _, restoreErr := c.Restore(ctxT(t), es)
		_, prepareErr := c.Prepare(ctxT(t), tx, Quorum{}, nil, es)
		_, fenceErr := c.Fence(ctxT(t), tx)
		_, statusErr := c.Status(ctxT(t))
		for op, err := range map[string]error{"get": getErr, "restore": restoreErr, "prepare": prepareErr, "fence": fenceErr, "status": statusErr,
			"commit": c.Commit(ctxT(t), tx, c.CommitProofs(tx, es)), "abort": c.Abort(ctxT(t), tx)} {
			wantProviderError(t, err, op, ErrNotExtension)
			if !errors.Is(err, ErrInvalidReply) || errors.Is(err, ErrNotSupported) {
				t.Errorf("%v %s: %v; want a protocol violation, not ErrNotSupported", format, op, err)
			}
		}
		if c.BaseOnly() {
			t.Errorf("%v: BaseOnly() after UNIMPLEMENTED answers; the capability is pinned", format)
		}
	}
	if n := baseGets.Load(); n != 0 {
		t.Errorf("%d base Gets sent to a pinned extension server", n)
	}
}

// TestQuorumFormatDetectsLyingServer: a server returning, under valid reply
// MACs, a bad proof or a value relabelled to another key or txid is caught.
func TestQuorumFormatDetectsLyingServer(t *testing.T) {
	t.Parallel()
	type lie func(s *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue
	otherTx := bytes.Repeat([]byte{0x42}, 16)
	cases := map[string]struct {
		lie       lie
		tampered  string // the key refused as tampered, if any
		certified bool   // whether a, if served, is certified
	}{
		"proof flipped": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Proof[0] ^= 1
			return kvs
		}, "a", false},
		"b's proof on a": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Proof = kvs[1].Proof
			return kvs
		}, "a", false},
		"b's value relabelled as a": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Value, kvs[0].Proof = kvs[1].Value, kvs[1].Proof
			return kvs
		}, "a", false},
		"relabelled to another txid": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Txid = otherTx
			return kvs
		}, "a", false},
		"txid dropped (as a plain put)": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Txid, kvs[0].Proof = nil, nil
			return kvs
		}, "a", false},
		"proof with no txid": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[2].Proof = kvs[0].Proof
			return kvs
		}, "c", true},
		"proof withheld": {func(_ *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			kvs[0].Proof = nil
			return kvs
		}, "", false},
		"a prepared value with a made-up proof": {func(s *quorumSetup, kvs []*lsspb.KeyValue) []*lsspb.KeyValue {
			tx := bytes.Repeat([]byte{0x24}, 16)
			es := s.client.SealTx(tx, []KV{{"a", 5, []byte("aborted")}})
			kvs[0] = &lsspb.KeyValue{Key: "a", Version: 5, Value: es[0].Stored, Txid: tx, Proof: bytes.Repeat([]byte{1}, 32)}
			return kvs
		}, "a", false},
	}
	for name, tc := range cases {
		for _, stock := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := newQuorumSetup(t, stock)
				var entries []Entry
				tx := txid(t)
				entries = s.client.SealTx(tx, []KV{{"a", 0, []byte("A")}, {"b", 0, []byte("B")}})
				proofs := s.client.CommitProofs(tx, entries)
				for i := range entries {
					entries[i].Proof = proofs[i]
				}
				if stock {
					if err := s.client.PutEntries(ctxT(t), entries); err != nil {
						t.Fatal(err)
					}
				} else if _, _, err := s.client.Restore(ctxT(t), entries); err != nil {
					t.Fatal(err)
				}
				if err := s.client.Put(ctxT(t), []KV{{"c", 0, []byte("C")}}); err != nil {
					t.Fatal(err)
				}
				s.proxy.setReply(func(method string, req, rep proto.Message) {
					r, ok := rep.(*lsspb.GetReply)
					if !ok {
						return
					}
					kvs := s.unwrapAll(t, r.Kvs, stock)
					kvs = tc.lie(s, kvs)
					r.Kvs = s.wrapAll(kvs, stock)
					s.reMAC(method, req.(*lsspb.GetRequest), r)
				})
				got, err := s.client.Get(ctxT(t), "")
				var te *TamperedError
				if tc.tampered == "" {
					if err != nil {
						t.Fatalf("stock=%v: Get: %v", stock, err)
					}
				} else if !errors.As(err, &te) || len(te.Keys) != 1 || te.Keys[0].Key != tc.tampered {
					t.Fatalf("stock=%v: Get = %+v, %v; want %s reported as tampered", stock, got, err, tc.tampered)
				}
				if len(got) != 3-len(tc.tampered) {
					t.Fatalf("stock=%v: Get returned %v", stock, keysOf(got))
				}
				for _, e := range got {
					if e.Key == tc.tampered {
						t.Errorf("stock=%v: tampered %q returned as data", stock, e.Key)
					}
					if e.Key == "a" && e.Certified != tc.certified {
						t.Errorf("stock=%v: a served with Certified=%v, want %v", stock, e.Certified, tc.certified)
					}
				}
			})
		}
	}
}

// unwrapAll turns a reply's values into their extension form (txid and proof in
// their fields), unwrapping carriers from a stock server.
func (s *quorumSetup) unwrapAll(t *testing.T, kvs []*lsspb.KeyValue, stock bool) []*lsspb.KeyValue {
	out := make([]*lsspb.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = proto.Clone(kv).(*lsspb.KeyValue)
		if stock {
			txid, proof, sealed, err := wire.UnwrapCarrier(kv.Value)
			if err != nil {
				t.Errorf("stock server holds a value that is not a carrier: %v", err)
				continue
			}
			out[i].Txid, out[i].Proof, out[i].Value = txid, proof, sealed
		}
	}
	return out
}

// wrapAll is unwrapAll's inverse.
func (s *quorumSetup) wrapAll(kvs []*lsspb.KeyValue, stock bool) []*lsspb.KeyValue {
	if !stock {
		return kvs
	}
	for _, kv := range kvs {
		kv.Value, kv.Txid, kv.Proof = wire.WrapCarrier(kv.Txid, kv.Proof, kv.Value), nil, nil
	}
	return kvs
}

// TestStockValueWithoutCarrier: in the quorum format, a value read from a stock
// server that is not a carrier is tampering, never data.
func TestStockValueWithoutCarrier(t *testing.T) {
	t.Parallel()
	s := newQuorumSetup(t, true)
	if err := s.client.Put(ctxT(t), []KV{{"a", 0, []byte("A")}}); err != nil {
		t.Fatal(err)
	}
	s.proxy.setReply(func(method string, req, rep proto.Message) {
		if r, ok := rep.(*lsspb.GetReply); ok {
			_, _, sealed, _ := wire.UnwrapCarrier(r.Kvs[0].Value)
			r.Kvs[0].Value = sealed
			s.reMAC(method, req.(*lsspb.GetRequest), r)
		}
	})
	got, err := s.client.Get(ctxT(t), "")
	wantProviderError(t, err, "get", ErrValueHMAC)
	if len(got) != 0 {
		t.Errorf("data returned: %v", keysOf(got))
	}
}

// TestPrepareNeedsEntriesSealedForTheTxid: in the quorum format the value MAC
// binds the txid, so entries sealed for another txid (or for a plain put) are
// refused before anything is sent.
func TestPrepareNeedsEntriesSealedForTheTxid(t *testing.T) {
	t.Parallel()
	s := newQuorumSetup(t, false)
	var prepares atomic.Int32
	s.proxy.setRequest(func(method string, _ proto.Message) {
		if method == "Prepare" {
			prepares.Add(1)
		}
	})
	tx := txid(t)
	for name, es := range map[string][]Entry{
		"plain seal":         s.client.Seal([]KV{{"k", 0, []byte("v")}}),
		"sealed for another": s.client.SealTx(txid(t), []KV{{"k", 0, []byte("v")}}),
	} {
		if _, err := s.client.Prepare(ctxT(t), tx, Quorum{}, nil, es); err == nil {
			t.Errorf("%s: Prepare succeeded", name)
		}
	}
	if n := prepares.Load(); n != 0 {
		t.Errorf("%d refused prepares reached the server", n)
	}
}

func TestQuorumFormatRefusesRustCipher(t *testing.T) {
	t.Parallel()
	d := startServer(t, false)
	_, err := Dial(ctxT(t), Options{Addr: d.Addr(), ClientKey: newKey(t), Format: FormatQuorum, Encrypt: true})
	if err == nil {
		t.Fatal("Dial with FormatQuorum and Encrypt succeeded")
	}
}
