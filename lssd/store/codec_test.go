package store

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValueRoundTrip(t *testing.T) {
	for _, kv := range []KV{
		{Version: 0},
		{Version: 1, Value: []byte{}},
		{Version: math.MaxInt64, Value: []byte("v")},
		{Version: -1, Value: bytes.Repeat([]byte{0xff}, 1000)},
		{Version: 7, Value: []byte("v"), TxID: bytes.Repeat([]byte{1}, 32), Proof: bytes.Repeat([]byte{2}, 32)},
		{Version: 0, Value: nil, TxID: bytes.Repeat([]byte{1}, 16)},
		{Version: math.MaxInt64, Value: []byte{0x80, 0}, Proof: []byte{3}},
		{Version: -5, Value: []byte("negative"), TxID: bytes.Repeat([]byte{4}, 64)},
		{Version: 3, Value: []byte("long fields"), TxID: bytes.Repeat([]byte{5}, 200), Proof: bytes.Repeat([]byte{6}, 300)},
	} {
		kv.Key = "k"
		b := EncodeValue(kv)
		if len(b) != EncodedValueLen(kv) || !bytes.Equal(AppendValue([]byte("prefix"), kv), append([]byte("prefix"), b...)) {
			t.Fatalf("EncodedValueLen or AppendValue of %+v disagrees with EncodeValue (%d bytes, said %d)", kv, len(b), EncodedValueLen(kv))
		}
		plain := len(kv.TxID) == 0 && len(kv.Proof) == 0 && kv.Version >= 0
		if plain && len(b) != 8+len(kv.Value) {
			t.Fatalf("EncodeValue(%d, %d bytes) is %d bytes, want the original layout", kv.Version, len(kv.Value), len(b))
		}
		got, err := DecodeValue("k", b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != "k" || got.Version != kv.Version || !bytes.Equal(got.Value, kv.Value) ||
			!bytes.Equal(got.TxID, kv.TxID) || !bytes.Equal(got.Proof, kv.Proof) {
			t.Fatalf("round trip of %+v = %+v", kv, got)
		}
		// The decoded value is a copy: the stored bytes may be reused.
		for i := range b {
			b[i] ^= 0xff
		}
		if (len(got.Value) > 0 && got.Value[0] == kv.Value[0]^0xff) || (len(got.TxID) > 0 && got.TxID[0] == kv.TxID[0]^0xff) {
			t.Fatal("DecodeValue returned a slice of its input")
		}
	}
}

func TestValueLayoutIsBigEndian(t *testing.T) {
	got := EncodeValue(KV{Version: 0x0102030405060708, Value: []byte("x")})
	if want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 'x'}; !bytes.Equal(got, want) {
		t.Fatalf("EncodeValue = %x, want %x", got, want)
	}
	got = EncodeValue(KV{Version: 0x0102030405060708, Value: []byte("x"), TxID: []byte("tt"), Proof: []byte("p")})
	if want := []byte{0x80, 1, 2, 3, 4, 5, 6, 7, 8, 2, 't', 't', 1, 'p', 'x'}; !bytes.Equal(got, want) {
		t.Fatalf("EncodeValue with txid and proof = %x, want %x", got, want)
	}
}

// TestValueWrittenBeforeTxFields decodes bytes laid out by the code before the
// txid and proof existed (version BE8 || value).
func TestValueWrittenBeforeTxFields(t *testing.T) {
	kv, err := DecodeValue("old", []byte{0, 0, 0, 0, 0, 0, 0, 9, 0x80, 'v'})
	if err != nil || kv.Version != 9 || !bytes.Equal(kv.Value, []byte{0x80, 'v'}) || kv.TxID != nil || kv.Proof != nil {
		t.Fatalf("DecodeValue of an original-layout value = %+v, %v", kv, err)
	}
}

func TestDecodeValueCorrupt(t *testing.T) {
	_, err := DecodeValue("broken", []byte{1, 2, 3})
	if err == nil || !strings.Contains(err.Error(), `"broken"`) || !strings.Contains(err.Error(), "3 bytes") {
		t.Fatalf("DecodeValue of 3 bytes: %v; want an error naming the key and length", err)
	}
	good := EncodeValue(KV{Version: 1, Value: []byte("v"), TxID: []byte("txid"), Proof: []byte("proof")})
	for name, b := range map[string][]byte{
		"unknown layout":     append([]byte{0x81}, good[1:]...),
		"short header":       good[:8],
		"txid past the end":  append(append([]byte{}, good[:9]...), 50, 't'),
		"proof past the end": append(append([]byte{}, good[:9+1+4]...), 50),
		"no proof length":    good[:9+1+4],
		"bad varint":         append(append([]byte{}, good[:9]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	} {
		if _, err := DecodeValue("broken", b); err == nil || !strings.Contains(err.Error(), `"broken"`) {
			t.Errorf("%s: DecodeValue = %v, want an error naming the key", name, err)
		}
	}
}

// TestStatValue: StatValue reads the version and value length DecodeValue
// would return, in both layouts, and refuses what DecodeValue refuses.
func TestStatValue(t *testing.T) {
	for _, kv := range []KV{
		{Version: 0},
		{Version: 9, Value: []byte{0x80, 'v'}},
		{Version: 7, Value: bytes.Repeat([]byte("v"), 2048), TxID: bytes.Repeat([]byte{1}, 32), Proof: bytes.Repeat([]byte{2}, 32)},
		{Version: -5, Value: []byte("negative"), TxID: bytes.Repeat([]byte{4}, 200)},
		{Version: 3, Proof: []byte{3}},
	} {
		b := EncodeValue(kv)
		version, n, err := StatValue("k", b)
		if err != nil || version != kv.Version || n != len(kv.Value) {
			t.Fatalf("StatValue of version %d with %d bytes = %d, %d, %v", kv.Version, len(kv.Value), version, n, err)
		}
	}
	good := EncodeValue(KV{Version: 1, Value: []byte("v"), TxID: []byte("txid"), Proof: []byte("proof")})
	for name, b := range map[string][]byte{
		"3 bytes":            {1, 2, 3},
		"unknown layout":     append([]byte{0x81}, good[1:]...),
		"short header":       good[:8],
		"txid past the end":  append(append([]byte{}, good[:9]...), 50, 't'),
		"proof past the end": append(append([]byte{}, good[:9+1+4]...), 50),
		"no proof length":    good[:9+1+4],
	} {
		_, derr := DecodeValue("broken", b)
		if _, _, err := StatValue("broken", b); err == nil || derr == nil || err.Error() != derr.Error() {
			t.Errorf("%s: StatValue = %v, DecodeValue = %v; want the same error", name, err, derr)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	updated := time.UnixMilli(1_700_000_000_123)
	for _, rec := range []Record{
		{TxID: bytes.Repeat([]byte{1}, 32), State: TxPrepared, Updated: updated,
			KVs: []KV{{Key: "a", Version: 3, Value: []byte("A")}, {Key: "", Version: 0, Value: nil}}},
		{TxID: bytes.Repeat([]byte{2}, 16), State: TxAborted, Updated: updated},
		{TxID: bytes.Repeat([]byte{3}, 64), State: TxCommitted, Updated: updated,
			KVs: []KV{{Key: "big", Version: 1 << 40, Value: bytes.Repeat([]byte("x"), 1<<16)}}},
		{TxID: bytes.Repeat([]byte{4}, 32), State: TxCommitted, Updated: updated,
			Quorum: Quorum{Participants: [][]byte{{1}, {2}}, W: 2}, Seal: bytes.Repeat([]byte{5}, 32)},
	} {
		b, err := EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.TxID, rec.TxID) || got.State != rec.State || !got.Updated.Equal(rec.Updated) ||
			!sameKVs(got.KVs, rec.KVs) || !got.Quorum.Equal(rec.Quorum) || !bytes.Equal(got.Seal, rec.Seal) {
			t.Fatalf("round trip of %v record = %+v", rec.State, got)
		}
	}
}

// TestDecodeRecordCopies: a backend decodes records straight out of its
// storage's memory (bolt's pages), which is reused once its transaction ends,
// so nothing of the decoded record may point into the bytes it was decoded from.
func TestDecodeRecordCopies(t *testing.T) {
	rec := Record{TxID: bytes.Repeat([]byte{1}, 32), State: TxPrepared, Updated: time.UnixMilli(5),
		KVs:    []KV{{Key: "a", Version: 3, Value: []byte("value-a"), TxID: []byte("tx"), Proof: []byte("proof")}},
		Quorum: Quorum{Participants: [][]byte{{7, 7}, {8, 8}}, W: 2}, Seal: bytes.Repeat([]byte{5}, 32)}
	b, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] ^= 0xff
	}
	if !bytes.Equal(got.TxID, rec.TxID) || !sameKVs(got.KVs, rec.KVs) || !got.Quorum.Equal(rec.Quorum) || !bytes.Equal(got.Seal, rec.Seal) ||
		!bytes.Equal(got.KVs[0].TxID, rec.KVs[0].TxID) || !bytes.Equal(got.KVs[0].Proof, rec.KVs[0].Proof) {
		t.Fatalf("decoded record changed with the bytes it was decoded from: %+v", got)
	}
}

func TestRecordKeepsMilliseconds(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 987_654_321, time.UTC)
	b, err := EncodeRecord(Record{TxID: make([]byte, 16), State: TxAborted, Updated: at})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Millisecond); !got.Updated.Equal(want) {
		t.Fatalf("Updated = %v, want %v", got.Updated, want)
	}
}

func TestDecodeRecordCorrupt(t *testing.T) {
	_, err := DecodeRecord([]byte{0xff, 0xff, 0xff})
	if err == nil || !strings.Contains(err.Error(), "corrupt transaction record") {
		t.Fatalf("DecodeRecord of garbage: %v", err)
	}
}

func TestCheckKeys(t *testing.T) {
	kvs := func(keys ...string) []KV {
		out := make([]KV, len(keys))
		for i, k := range keys {
			out[i] = KV{Key: k}
		}
		return out
	}
	for _, ok := range [][]KV{nil, kvs(""), kvs("", "a"), kvs("a", "a\x00", "b"), kvs("\x7f", "\x80", "\xff")} {
		if err := CheckKeys(ok); err != nil {
			t.Errorf("CheckKeys(%v): %v", ok, err)
		}
	}
	for _, tc := range []struct {
		kvs  []KV
		want string
	}{
		{kvs("a", "a"), `duplicate key "a"`},
		{kvs("", ""), `duplicate key ""`},
		{kvs("b", "a"), `"a" after "b"`},
		{kvs("a", "c", "b"), `"b" after "c"`},
		{kvs("\xff", "\x00"), "not in ascending order"},
		{kvs("ab", "a"), `"a" after "ab"`},
	} {
		err := CheckKeys(tc.kvs)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckKeys(%v) = %v; want ErrInvalid saying %s", tc.kvs, err, tc.want)
		}
	}
}

func TestCheckTxID(t *testing.T) {
	for n := 0; n <= MaxTxIDLen+1; n++ {
		err := CheckTxID(make([]byte, n))
		valid := n >= MinTxIDLen && n <= MaxTxIDLen
		if valid && err != nil {
			t.Errorf("CheckTxID(%d bytes): %v", n, err)
		}
		if !valid && !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckTxID(%d bytes) = %v, want ErrInvalid", n, err)
		}
	}
}

func TestCheckRestoreVersions(t *testing.T) {
	if err := checkRestoreVersions([]KV{{Key: "a", Version: 0}, {Key: "b", Version: math.MaxInt64}}); err != nil {
		t.Fatal(err)
	}
	err := checkRestoreVersions([]KV{{Key: "a"}, {Key: "neg", Version: -3}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"neg"`) || !strings.Contains(err.Error(), "-3") {
		t.Fatalf("negative version: %v", err)
	}
}

func TestTxStateString(t *testing.T) {
	for s, want := range map[TxState]string{TxUnknown: "unknown", TxPrepared: "prepared",
		TxCommitted: "committed", TxAborted: "aborted", 42: "invalid"} {
		if got := s.String(); got != want {
			t.Errorf("TxState(%d) = %q, want %q", int(s), got, want)
		}
	}
}

func TestConflictOf(t *testing.T) {
	txid := []byte("0123456789abcdef")
	if c := conflictOf("k", KV{}, false, nil); c.Version != -1 || c.Value != nil || c.ReservedBy != nil {
		t.Fatalf("absent key: %+v", c)
	}
	c := conflictOf("k", KV{Key: "k", Version: 4, Value: []byte("v")}, true, txid)
	if c.Key != "k" || c.Version != 4 || string(c.Value) != "v" || !bytes.Equal(c.ReservedBy, txid) {
		t.Fatalf("stored, reserved key: %+v", c)
	}
}

func TestSameKVs(t *testing.T) {
	a := []KV{{Key: "a", Version: 1, Value: []byte("x")}}
	for _, tc := range []struct {
		b    []KV
		same bool
	}{
		{[]KV{{Key: "a", Version: 1, Value: []byte("x")}}, true},
		{[]KV{{Key: "a", Version: 2, Value: []byte("x")}}, false},
		{[]KV{{Key: "b", Version: 1, Value: []byte("x")}}, false},
		{[]KV{{Key: "a", Version: 1, Value: []byte("y")}}, false},
		{append(a, KV{Key: "b"}), false},
		{nil, false},
	} {
		if got := sameKVs(a, tc.b); got != tc.same {
			t.Errorf("sameKVs(%v, %v) = %v", a, tc.b, got)
		}
	}
	if !sameKVs([]KV{{Key: "a"}}, []KV{{Key: "a", Value: []byte{}}}) {
		t.Error("a nil and an empty value differ")
	}
}
