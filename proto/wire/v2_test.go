package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
)

// Known answers of the v2 constructions for the inputs below, computed once by
// handMAC/handHKDF (written from the contract, sharing no code with the package;
// the first two also checked with Python's hmac module) and pinned here so that a
// change to either side is caught.
const (
	vecKeyValueV2  = "4866b008a9da55d12af78c080f1b419277453c21073570c5e9947b7eba3cc27b"
	vecValueMACv2  = "5abeb3e860614fb70d9265770d3c12b7e033da44dc92af70b750aae078746901"
	vecCommitProof = "f48398923ebda3a1351568125d59873df90a161782e8cc236886ceba471e5964"
	vecPrepareSeal = "8717536e0ee1408bcedb18c8543ea635b005f671bc429120570e71ba5cb57164"
)

// v2Inputs are the inputs of the known-answer tests.
var (
	v2Secret       = bytes.Repeat([]byte{0x5a}, 32)
	v2Txid         = bytes.Repeat([]byte{0x7e}, 16)
	v2Key          = "chan/1"
	v2Version      = int64(7)
	v2Payload      = []byte("payload")
	v2Participants = [][]byte{bytes.Repeat([]byte{0x02}, 33), bytes.Repeat([]byte{0x03}, 33)}
)

// handHKDF is RFC 5869 HKDF-SHA256 with an empty salt and one output block.
func handHKDF(ikm []byte, info string) []byte {
	extract := hmac.New(sha256.New, make([]byte, sha256.Size))
	extract.Write(ikm)
	prk := extract.Sum(nil)
	expand := hmac.New(sha256.New, prk)
	expand.Write([]byte(info))
	expand.Write([]byte{0x01})
	return expand.Sum(nil)
}

// handMAC is HMAC-SHA256 over the concatenation of parts.
func handMAC(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func u32(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }
func i64(n int64) []byte {
	return []byte{byte(n >> 56), byte(n >> 48), byte(n >> 40), byte(n >> 32), byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}
func sum256(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestDeriveKeyIsHKDF(t *testing.T) {
	for _, label := range []string{LabelValueMACv2, LabelCommitProof, LabelPrepareSeal, LabelValueEncryption} {
		got := DeriveKey(v2Secret, label)
		if want := handHKDF(v2Secret, label); !bytes.Equal(got, want) {
			t.Errorf("DeriveKey(%q) = %x, want %x", label, got, want)
		}
	}
	if bytes.Equal(DeriveKey(v2Secret, LabelValueMACv2), DeriveKey(v2Secret, LabelCommitProof)) {
		t.Error("two labels derive the same key")
	}
	checkHex(t, "value-mac key", DeriveKey(v2Secret, LabelValueMACv2), vecKeyValueV2)
}

func TestValueMACv2KnownAnswer(t *testing.T) {
	k := handHKDF(v2Secret, "lss-quorum value-mac v2")
	want := handMAC(k, []byte("lss-value-v2"), u32(len(v2Key)), []byte(v2Key), i64(v2Version),
		u32(len(v2Txid)), v2Txid, u32(len(v2Payload)), v2Payload)
	sealed := NewValueMACv2(v2Secret).Seal(v2Key, v2Version, v2Txid, v2Payload)
	if !bytes.Equal(sealed, append(bytes.Clone(v2Payload), want...)) {
		t.Fatalf("Seal = %x, want payload || %x", sealed, want)
	}
	checkHex(t, "value MAC v2", sealed[len(v2Payload):], vecValueMACv2)
	got, err := NewCertifier(v2Secret).ValueMAC().Open(v2Key, v2Version, v2Txid, sealed)
	if err != nil || !bytes.Equal(got, v2Payload) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// A plain put has an empty txid, still length-prefixed.
	plain := NewValueMACv2(v2Secret).Seal(v2Key, v2Version, nil, v2Payload)
	wantPlain := handMAC(k, []byte("lss-value-v2"), u32(len(v2Key)), []byte(v2Key), i64(v2Version),
		u32(0), u32(len(v2Payload)), v2Payload)
	if !bytes.Equal(plain[len(v2Payload):], wantPlain) {
		t.Errorf("plain seal MAC = %x, want %x", plain[len(v2Payload):], wantPlain)
	}
}

func TestValueMACv2RejectsRelabelling(t *testing.T) {
	m := NewValueMACv2(v2Secret)
	sealed := m.Seal("ab", 3, v2Txid, []byte("c"))
	flipped := bytes.Clone(sealed)
	flipped[0] ^= 1
	otherTxid := bytes.Clone(v2Txid)
	otherTxid[0] ^= 1
	cases := map[string]struct {
		key     string
		version int64
		txid    []byte
		stored  []byte
	}{
		"other key":                 {"ac", 3, v2Txid, sealed},
		"key/value boundary moved":  {"a", 3, v2Txid, append([]byte("b"), sealed...)},
		"other version":             {"ab", 4, v2Txid, sealed},
		"other txid":                {"ab", 3, otherTxid, sealed},
		"txid dropped (plain put)":  {"ab", 3, nil, sealed},
		"flipped value bit":         {"ab", 3, v2Txid, flipped},
		"truncated":                 {"ab", 3, v2Txid, sealed[:ValueHMACSize-1]},
		"v1 seal of the same value": {"ab", 3, v2Txid, SealValue(v2Secret, "ab", 3, []byte("c"))},
	}
	for name, c := range cases {
		if _, err := m.Open(c.key, c.version, c.txid, c.stored); !errors.Is(err, ErrValueHMAC) {
			t.Errorf("%s: err = %v, want ErrValueHMAC", name, err)
		}
	}
	if _, err := NewValueMACv2(bytes.Repeat([]byte{1}, 32)).Open("ab", 3, v2Txid, sealed); !errors.Is(err, ErrValueHMAC) {
		t.Errorf("other secret: err = %v, want ErrValueHMAC", err)
	}
}

func TestCommitProofKnownAnswer(t *testing.T) {
	k := handHKDF(v2Secret, "lss-quorum commit-proof v2")
	stored := NewValueMACv2(v2Secret).Seal(v2Key, v2Version, v2Txid, v2Payload)
	want := handMAC(k, []byte("lss-commit-v2"), u32(len(v2Txid)), v2Txid, u32(len(v2Key)), []byte(v2Key),
		i64(v2Version), sum256(stored))
	c := NewCertifier(v2Secret)
	got := c.Proof(v2Txid, v2Key, v2Version, stored)
	if !bytes.Equal(got, want) {
		t.Fatalf("proof = %x, want %x", got, want)
	}
	checkHex(t, "commit proof", got, vecCommitProof)
	if !VerifyCommitProof(k, v2Txid, v2Key, v2Version, stored, got) || !c.VerifyProof(v2Txid, v2Key, v2Version, stored, got) {
		t.Fatal("a valid proof does not verify")
	}
}

func TestCommitProofRejectsTampering(t *testing.T) {
	c := NewCertifier(v2Secret)
	stored := []byte("sealed-bytes")
	proof := c.Proof(v2Txid, "ab", 3, stored)
	otherTxid := bytes.Clone(v2Txid)
	otherTxid[len(otherTxid)-1] ^= 1
	cases := map[string]struct {
		txid    []byte
		key     string
		version int64
		stored  []byte
		proof   []byte
	}{
		"other key":         {v2Txid, "ac", 3, stored, proof},
		"other version":     {v2Txid, "ab", 2, stored, proof},
		"other txid":        {otherTxid, "ab", 3, stored, proof},
		"other value":       {v2Txid, "ab", 3, []byte("sealed-bytez"), proof},
		"txid/key boundary": {v2Txid[:15], string(v2Txid[15:]) + "ab", 3, stored, proof},
		"truncated proof":   {v2Txid, "ab", 3, stored, proof[:31]},
		"empty proof":       {v2Txid, "ab", 3, stored, nil},
	}
	for name, tc := range cases {
		if c.VerifyProof(tc.txid, tc.key, tc.version, tc.stored, tc.proof) {
			t.Errorf("%s: proof verifies", name)
		}
	}
	if NewCertifier(bytes.Repeat([]byte{1}, 32)).VerifyProof(v2Txid, "ab", 3, stored, proof) {
		t.Error("proof verifies under another secret")
	}
	// The proof key is not the value MAC key: a value MAC is never a proof.
	if c.VerifyProof(v2Txid, "ab", 3, stored, NewValueMACv2(v2Secret).Seal("ab", 3, v2Txid, nil)) {
		t.Error("a value MAC verifies as a proof")
	}
}

func v2KVs() []*lsspb.KeyValue {
	return []*lsspb.KeyValue{
		{Key: "a", Version: 1, Value: []byte("one")},
		{Key: "b", Version: 2, Value: []byte("two")},
	}
}

func TestPrepareSealKnownAnswer(t *testing.T) {
	k := handHKDF(v2Secret, "lss-quorum prepare-seal v2")
	parts := [][]byte{[]byte("lss-prepare-seal-v2"), u32(len(v2Txid)), v2Txid, u32(2)}
	for _, p := range v2Participants {
		parts = append(parts, u32(len(p)), p)
	}
	parts = append(parts, i64(2), u32(2))
	for _, kv := range v2KVs() {
		parts = append(parts, u32(len(kv.Key)), []byte(kv.Key), i64(kv.Version), sum256(kv.Value))
	}
	want := handMAC(k, parts...)
	c := NewCertifier(v2Secret)
	got := c.PrepareSeal(v2Txid, v2Participants, 2, v2KVs())
	if !bytes.Equal(got, want) {
		t.Fatalf("seal = %x, want %x", got, want)
	}
	checkHex(t, "prepare seal", got, vecPrepareSeal)
	if !c.VerifyPrepareSeal(v2Txid, v2Participants, 2, v2KVs(), got) {
		t.Fatal("a valid seal does not verify")
	}
}

func TestPrepareSealRejectsTampering(t *testing.T) {
	c := NewCertifier(v2Secret)
	seal := c.PrepareSeal(v2Txid, v2Participants, 2, v2KVs())
	mutate := func(f func(kvs []*lsspb.KeyValue) []*lsspb.KeyValue) []*lsspb.KeyValue { return f(v2KVs()) }
	otherTxid := bytes.Clone(v2Txid)
	otherTxid[0] ^= 1
	cases := map[string]struct {
		txid  []byte
		parts [][]byte
		w     int
		kvs   []*lsspb.KeyValue
	}{
		"other txid":        {otherTxid, v2Participants, 2, v2KVs()},
		"w lowered":         {v2Txid, v2Participants, 1, v2KVs()},
		"participant gone":  {v2Txid, v2Participants[:1], 2, v2KVs()},
		"participants cut":  {v2Txid, [][]byte{append(bytes.Clone(v2Participants[0]), v2Participants[1]...)}, 2, v2KVs()},
		"entry dropped":     {v2Txid, v2Participants, 2, v2KVs()[:1]},
		"other version":     {v2Txid, v2Participants, 2, mutate(func(k []*lsspb.KeyValue) []*lsspb.KeyValue { k[1].Version = 3; return k })},
		"other value":       {v2Txid, v2Participants, 2, mutate(func(k []*lsspb.KeyValue) []*lsspb.KeyValue { k[0].Value = []byte("uno"); return k })},
		"other key":         {v2Txid, v2Participants, 2, mutate(func(k []*lsspb.KeyValue) []*lsspb.KeyValue { k[0].Key = "c"; return k })},
		"entries reordered": {v2Txid, v2Participants, 2, mutate(func(k []*lsspb.KeyValue) []*lsspb.KeyValue { k[0], k[1] = k[1], k[0]; return k })},
	}
	for name, tc := range cases {
		if c.VerifyPrepareSeal(tc.txid, tc.parts, tc.w, tc.kvs, seal) {
			t.Errorf("%s: seal verifies", name)
		}
	}
}

func TestCarrierRoundTripAndLayout(t *testing.T) {
	proof := bytes.Repeat([]byte{0xab}, 32)
	sealed := []byte("sealed")
	b := WrapCarrier(v2Txid, proof, sealed)
	want := append([]byte{0xC7, 'L', 'Q', '2'}, u32(len(v2Txid))...)
	want = append(append(append(append(want, v2Txid...), u32(32)...), proof...), sealed...)
	if !bytes.Equal(b, want) {
		t.Fatalf("carrier = %x, want %x", b, want)
	}
	checkHex(t, "carrier", WrapCarrier([]byte{1}, nil, []byte{2}), "c74c5132"+"00000001"+"01"+"00000000"+"02")
	txid, gotProof, gotSealed, err := UnwrapCarrier(b)
	if err != nil || !bytes.Equal(txid, v2Txid) || !bytes.Equal(gotProof, proof) || !bytes.Equal(gotSealed, sealed) {
		t.Fatalf("UnwrapCarrier = %x %x %q %v", txid, gotProof, gotSealed, err)
	}
	txid, gotProof, gotSealed, err = UnwrapCarrier(WrapCarrier(nil, nil, sealed))
	if err != nil || len(txid) != 0 || len(gotProof) != 0 || !bytes.Equal(gotSealed, sealed) {
		t.Fatalf("empty carrier = %x %x %q %v", txid, gotProof, gotSealed, err)
	}
	for name, bad := range map[string][]byte{
		"no header":            sealed,
		"empty":                nil,
		"header only":          want[:4],
		"txid length too long": append(append([]byte{0xC7, 'L', 'Q', '2'}, u32(100)...), 1, 2, 3),
		"truncated proof":      want[:4+4+16+4+10],
		"old magic":            append([]byte{0xC7, 'L', 'Q', '1'}, want[4:]...),
	} {
		if _, _, _, err := UnwrapCarrier(bad); !errors.Is(err, ErrCarrier) {
			t.Errorf("%s: err = %v, want ErrCarrier", name, err)
		}
	}
}

func TestExtMACsCoverV2Fields(t *testing.T) {
	secret := repeated(0x33)
	base := func() []*lsspb.KeyValue {
		return []*lsspb.KeyValue{{Key: "k", Version: 1, Value: []byte("v"), Txid: []byte("t"), Proof: []byte("p")}}
	}
	ref := BoundGetReplyMAC(secret, "", nil, base())
	for name, f := range map[string]func(kv *lsspb.KeyValue){
		"txid":                func(kv *lsspb.KeyValue) { kv.Txid = []byte("u") },
		"proof":               func(kv *lsspb.KeyValue) { kv.Proof = nil },
		"txid/proof boundary": func(kv *lsspb.KeyValue) { kv.Txid, kv.Proof = []byte("tp"), nil },
		"value/txid boundary": func(kv *lsspb.KeyValue) { kv.Value, kv.Txid = []byte("vt"), nil },
	} {
		kvs := base()
		f(kvs[0])
		if bytes.Equal(BoundGetReplyMAC(secret, "", nil, kvs), ref) {
			t.Errorf("changing %s keeps the MAC", name)
		}
	}
	// The hand-built layout of one key-value.
	want := handMAC(secret, []byte("lss-ext"), []byte{byte(DomainRestoreRequest)}, u32(1),
		u32(1), []byte("k"), i64(1), u32(1), []byte("v"), u32(1), []byte("t"), u32(1), []byte("p"))
	if got := RestoreRequestMAC(secret, base()); !bytes.Equal(got, want) {
		t.Errorf("restore request MAC = %x, want %x", got, want)
	}
	// Commit covers its proofs, counted.
	txid := repeated(0x44)
	c0 := TxRequestMAC(secret, DomainCommitRequest, txid, nil)
	c1 := TxRequestMAC(secret, DomainCommitRequest, txid, [][]byte{[]byte("ab")})
	c2 := TxRequestMAC(secret, DomainCommitRequest, txid, [][]byte{[]byte("a"), []byte("b")})
	if bytes.Equal(c0, c1) || bytes.Equal(c1, c2) {
		t.Error("commit MAC does not cover its proofs unambiguously")
	}
	wantCommit := handMAC(secret, []byte("lss-ext"), []byte{0x07}, u32(len(txid)), txid, u32(1), u32(2), []byte("ab"))
	if !bytes.Equal(c1, wantCommit) {
		t.Errorf("commit MAC = %x, want %x", c1, wantCommit)
	}
	// Prepare covers the seal.
	if bytes.Equal(PrepareRequestMAC(secret, txid, base(), nil, 0, []byte("s1")), PrepareRequestMAC(secret, txid, base(), nil, 0, []byte("s2"))) {
		t.Error("prepare MAC does not cover the seal")
	}
	// Status covers each transaction's seal.
	tx := func(seal string) []*lsspb.Transaction {
		return []*lsspb.Transaction{{Txid: txid, State: lsspb.TxState_TX_COMMITTED, Seal: []byte(seal)}}
	}
	if bytes.Equal(StatusReplyMAC(secret, nil, tx("a")), StatusReplyMAC(secret, nil, tx("b"))) {
		t.Error("status MAC does not cover the seal")
	}
}
