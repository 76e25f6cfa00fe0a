package wire

import (
	"bytes"
	"testing"

	"github.com/lssquorum/lss/proto/lsspb"
	"google.golang.org/protobuf/proto"
)

// Known answers of the paged reply MACs for the inputs of pageInputs, computed
// with Python's hmac module from the layout in docs/protocol.md and pinned here.
const (
	vecBoundGetPage      = "f46d8a5f81a6e1921864734369954ce5957a27f01d43d0ad75deccbf805d649e"
	vecStatusPage        = "b916f199a8dfa4f326f93a6b4f37d1fda98f5be6369c381da85f42b547ee991a"
	vecStatusPendingPage = "87dc3e747fe9ac299256260afebf18da20910e3a48047096d656da7628e7248a"
	vecStatusTxIDs       = "60d179aee16f559e0d6643699ab10c5c74bc53bf4c2a49691079f3865f5488d7"
)

// pageGeneration is the generation of the known-answer BoundGet page: epoch
// 0x09 × 8, count 42.
var pageGeneration = append(bytes.Repeat([]byte{0x09}, 8), 0, 0, 0, 0, 0, 0, 0, 42)

func pageInputs() (nonce []byte, kv *lsspb.KeyValue, tx *lsspb.Transaction) {
	nonce = bytes.Repeat([]byte{0x01}, 8)
	kv = &lsspb.KeyValue{Key: "chan/1", Version: 7, Value: []byte("payload"), Txid: v2Txid, Proof: bytes.Repeat([]byte{0xab}, 32)}
	tx = &lsspb.Transaction{Txid: v2Txid, State: lsspb.TxState_TX_COMMITTED, UpdatedUnixMs: 1700000000000,
		Participants: v2Participants, WriteQuorum: 2, Seal: bytes.Repeat([]byte{0x5b}, 32)}
	return nonce, kv, tx
}

func TestBoundGetPageReplyMACKnownAnswer(t *testing.T) {
	nonce, kv, _ := pageInputs()
	after := "chan/0"
	got := BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, []*lsspb.KeyValue{kv}, true, pageGeneration)
	want := handMAC(v2Secret, []byte("lss-ext"), []byte{0x11}, u32(5), []byte("chan/"), u32(8), nonce,
		i64(1), u32(6), []byte(after), i64(2),
		u32(1), u32(6), []byte("chan/1"), i64(7), u32(7), []byte("payload"), u32(16), v2Txid, u32(32), kv.Proof,
		i64(1), u32(16), pageGeneration)
	if !bytes.Equal(got, want) {
		t.Fatalf("BoundGet page MAC = %x, want %x", got, want)
	}
	checkHex(t, "BoundGet page MAC", got, vecBoundGetPage)
}

func TestStatusPageReplyMACKnownAnswer(t *testing.T) {
	nonce, _, tx := pageInputs()
	after := bytes.Repeat([]byte{0x7d}, 16)
	got := StatusPageReplyMAC(v2Secret, nonce, after, 2, []*lsspb.Transaction{tx}, false)
	want := handMAC(v2Secret, []byte("lss-ext"), []byte{0x12}, u32(8), nonce, u32(16), after, i64(2), i64(1),
		u32(16), v2Txid, i64(2), u32(0), i64(1700000000000), i64(2), u32(33), v2Participants[0], u32(33), v2Participants[1],
		i64(2), u32(32), tx.Seal, i64(0))
	if !bytes.Equal(got, want) {
		t.Fatalf("Status page MAC = %x, want %x", got, want)
	}
	checkHex(t, "Status page MAC", got, vecStatusPage)
}

func TestStatusPendingPageReplyMACKnownAnswer(t *testing.T) {
	nonce, _, tx := pageInputs()
	after := bytes.Repeat([]byte{0x7d}, 16)
	got := StatusPendingPageReplyMAC(v2Secret, nonce, after, 2, []*lsspb.Transaction{tx}, false)
	want := handMAC(v2Secret, []byte("lss-ext"), []byte{0x14}, u32(8), nonce, u32(16), after, i64(2), i64(1),
		u32(16), v2Txid, i64(2), u32(0), i64(1700000000000), i64(2), u32(33), v2Participants[0], u32(33), v2Participants[1],
		i64(2), u32(32), tx.Seal, i64(0))
	if !bytes.Equal(got, want) {
		t.Fatalf("Status pending page MAC = %x, want %x", got, want)
	}
	checkHex(t, "Status pending page MAC", got, vecStatusPendingPage)
}

func TestStatusTxIDsReplyMACKnownAnswer(t *testing.T) {
	nonce, _, tx := pageInputs()
	other := bytes.Repeat([]byte{0x7f}, 16)
	got := StatusTxIDsReplyMAC(v2Secret, nonce, [][]byte{v2Txid, other}, []*lsspb.Transaction{tx})
	want := handMAC(v2Secret, []byte("lss-ext"), []byte{0x13}, u32(8), nonce, i64(2), u32(16), v2Txid, u32(16), other, i64(1),
		u32(16), v2Txid, i64(2), u32(0), i64(1700000000000), i64(2), u32(33), v2Participants[0], u32(33), v2Participants[1],
		i64(2), u32(32), tx.Seal)
	if !bytes.Equal(got, want) {
		t.Fatalf("Status txids MAC = %x, want %x", got, want)
	}
	checkHex(t, "Status txids MAC", got, vecStatusTxIDs)
}

// TestPageReplyMACsBindEveryField: changing any input of a page's MAC (the
// request's start and limit, the "more" flag, the generation, a dropped entry,
// the unpaged domain) changes the MAC, so none can be altered or cut silently.
func TestPageReplyMACsBindEveryField(t *testing.T) {
	nonce, kv, tx := pageInputs()
	after, empty := "chan/0", ""
	kv2 := proto.Clone(kv).(*lsspb.KeyValue)
	kv2.Key = "chan/2"
	kvs := []*lsspb.KeyValue{kv, kv2}
	gen := pageGeneration
	base := BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, kvs, true, gen)
	otherGen := bytes.Clone(gen)
	otherGen[15]++
	variants := map[string][]byte{
		"more dropped":        BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, kvs, false, gen),
		"last entry dropped":  BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, kvs[:1], true, gen),
		"start moved":         BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &empty, 2, kvs, true, gen),
		"no start":            BoundGetPageReplyMAC(v2Secret, "chan/", nonce, nil, 2, kvs, true, gen),
		"limit changed":       BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 1, kvs, true, gen),
		"prefix changed":      BoundGetPageReplyMAC(v2Secret, "chan", nonce, &after, 2, kvs, true, gen),
		"nonce changed":       BoundGetPageReplyMAC(v2Secret, "chan/", nonce[1:], &after, 2, kvs, true, gen),
		"unpaged reply":       BoundGetReplyMAC(v2Secret, "chan/", nonce, kvs),
		"status domain":       StatusPageReplyMAC(v2Secret, nonce, []byte(after), 2, nil, true),
		"generation changed":  BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, kvs, true, otherGen),
		"generation dropped":  BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &after, 2, kvs, true, nil),
		"start is empty list": BoundGetPageReplyMAC(v2Secret, "chan/", nonce, &empty, 2, kvs, true, gen),
	}
	// nil and "" must differ: starting after the empty key skips it.
	if bytes.Equal(variants["no start"], variants["start is empty list"]) {
		t.Fatal("start after \"\" and no start have the same MAC")
	}
	for name, m := range variants {
		if bytes.Equal(m, base) {
			t.Errorf("%s: same MAC as the original page", name)
		}
	}

	txs := []*lsspb.Transaction{tx, proto.Clone(tx).(*lsspb.Transaction)}
	txs[1].Txid = bytes.Repeat([]byte{0x7f}, 16)
	sbase := StatusPageReplyMAC(v2Secret, nonce, nil, 2, txs, true)
	for name, m := range map[string][]byte{
		"more dropped":     StatusPageReplyMAC(v2Secret, nonce, nil, 2, txs, false),
		"last tx dropped":  StatusPageReplyMAC(v2Secret, nonce, nil, 2, txs[:1], true),
		"start moved":      StatusPageReplyMAC(v2Secret, nonce, v2Txid, 2, txs, true),
		"limit changed":    StatusPageReplyMAC(v2Secret, nonce, nil, 3, txs, true),
		"unpaged reply":    StatusReplyMAC(v2Secret, nonce, txs),
		"nonce changed":    StatusPageReplyMAC(v2Secret, nonce[1:], nil, 2, txs, true),
		"first tx dropped": StatusPageReplyMAC(v2Secret, nonce, nil, 2, txs[1:], true),
		"pending only":     StatusPendingPageReplyMAC(v2Secret, nonce, nil, 2, txs, true),
	} {
		if bytes.Equal(m, sbase) {
			t.Errorf("status %s: same MAC as the original page", name)
		}
	}

	asked := [][]byte{txs[0].Txid, txs[1].Txid}
	tbase := StatusTxIDsReplyMAC(v2Secret, nonce, asked, txs)
	for name, m := range map[string][]byte{
		"a txid asked dropped": StatusTxIDsReplyMAC(v2Secret, nonce, asked[:1], txs),
		"txids asked swapped":  StatusTxIDsReplyMAC(v2Secret, nonce, [][]byte{asked[1], asked[0]}, txs),
		"last tx dropped":      StatusTxIDsReplyMAC(v2Secret, nonce, asked, txs[:1]),
		"nonce changed":        StatusTxIDsReplyMAC(v2Secret, nonce[1:], asked, txs),
		"unpaged reply":        StatusReplyMAC(v2Secret, nonce, txs),
		// The counts keep a txid asked from passing for a transaction listed.
		"txid moved to the list": StatusTxIDsReplyMAC(v2Secret, nonce, asked[:1], nil),
	} {
		if bytes.Equal(m, tbase) {
			t.Errorf("status txids %s: same MAC as the original reply", name)
		}
	}
}
