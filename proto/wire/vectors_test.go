package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
)

// The test vectors of docs/protocol.md, computed independently of this code.
const (
	vecClientID     = "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa"
	vecServerID     = "02466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27"
	vecRawX         = "77e0510d5042e2f5e9e59c977b81eeed590cf7d20c1c51da451a8eaa9fdc45ff"
	vecSharedSecret = "b36b6d195982c5be874d6d542dc268234379e1ae4ff1709402135b7de5cf0766"
	vecToken        = "f035251054f3040b8ae6c87040d1d562e857ed688f6818433375f21c13df0054"
	vecHMACSecret   = "02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc"
	vecValueHMAC    = "dd734f8e4acfed68c532a53100eb4b5039e70be16fdd78eb9ffdd8ff88a92ea5"
	vecEncrypted    = "32dfc6b39e6605ad5e98a4cfc5e6cd5d5e701df9bab7b7bc8c6e44852d06b2874d"
	vecPutRequest   = "2e3c1864370a95cbd641d09ae0cf7c0dd5bd0b1c30707ee5ec23775e41f19f2e"
	vecPutReply     = "8fe3d55b41ae5f1c0d2b1015e3d190ff4c6d419bd792fccf8f349505031f9fec"
)

func repeated(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != want {
		t.Errorf("%s = %x, want %s", what, got, want)
	}
}

func TestIdentities(t *testing.T) {
	client := secp256k1.PrivKeyFromBytes(repeated(0x11))
	server := secp256k1.PrivKeyFromBytes(repeated(0x22))
	checkHex(t, "client_id", PublicID(client), vecClientID)
	checkHex(t, "server_id", PublicID(server), vecServerID)
}

func TestSharedSecretIsHashOfCompressedPoint(t *testing.T) {
	client := secp256k1.PrivKeyFromBytes(repeated(0x11))
	server := secp256k1.PrivKeyFromBytes(repeated(0x22))

	fromClient := SharedSecret(client, server.PubKey())
	fromServer := SharedSecret(server, client.PubKey())
	checkHex(t, "shared secret (client side)", fromClient[:], vecSharedSecret)
	checkHex(t, "shared secret (server side)", fromServer[:], vecSharedSecret)

	// dcrd's own helper returns the raw X coordinate, which is not the protocol's secret.
	raw := secp256k1.GenerateSharedSecret(client, server.PubKey())
	checkHex(t, "raw ECDH X", raw, vecRawX)
	if bytes.Equal(raw, fromClient[:]) {
		t.Error("shared secret must not be the raw X coordinate")
	}

	token := Token(fromClient)
	checkHex(t, "token", token[:], vecToken)
}

func TestCLIHMACSecretAndValueHMAC(t *testing.T) {
	client := secp256k1.PrivKeyFromBytes(repeated(0x11))
	secret := CLIHMACSecret(client)
	checkHex(t, "hmac_secret", secret[:], vecHMACSecret)

	vh := ValueHMAC(secret[:], "xx1", 0, []byte{0x11})
	checkHex(t, "value hmac", vh, vecValueHMAC)

	sealed := SealValue(secret[:], "xx1", 0, []byte{0x11})
	checkHex(t, "sealed value", sealed, "11"+vecValueHMAC)
	plain, err := OpenValue(secret[:], "xx1", 0, sealed)
	if err != nil || !bytes.Equal(plain, []byte{0x11}) {
		t.Fatalf("OpenValue = %x, %v", plain, err)
	}
}

func TestEncryptedValue(t *testing.T) {
	secret := unhex(t, vecHMACSecret)
	enc := EncryptValue(secret, "xx1", 0, []byte{0x11})
	checkHex(t, "encrypted value", enc, vecEncrypted)

	plain, err := DecryptValue(secret, "xx1", 0, unhex(t, vecEncrypted))
	if err != nil || !bytes.Equal(plain, []byte{0x11}) {
		t.Fatalf("DecryptValue = %x, %v", plain, err)
	}
}

func TestValueHMACRejectsTampering(t *testing.T) {
	secret := unhex(t, vecHMACSecret)
	sealed := SealValue(secret, "xx1", 0, []byte{0x11})
	cases := map[string]struct {
		key     string
		version int64
		stored  []byte
	}{
		"flipped value bit": {"xx1", 0, append([]byte{0x10}, sealed[1:]...)},
		"other key":         {"xx2", 0, sealed},
		"other version":     {"xx1", 1, sealed},
		"truncated":         {"xx1", 0, sealed[:10]},
	}
	for name, c := range cases {
		if _, err := OpenValue(secret, c.key, c.version, c.stored); !errors.Is(err, ErrValueHMAC) {
			t.Errorf("%s: err = %v, want ErrValueHMAC", name, err)
		}
	}
	if _, err := DecryptValue(secret, "xx1", 1, unhex(t, vecEncrypted)); !errors.Is(err, ErrValueHMAC) {
		t.Errorf("decrypt under another version: err = %v, want ErrValueHMAC", err)
	}
}

func TestPutHMACVectors(t *testing.T) {
	secret := make([]byte, 32)
	kvs := []*lsspb.KeyValue{
		{Key: "foo", Version: 0, Value: []byte{0x01}},
		{Key: "bar", Version: 0, Value: []byte{0x02}},
		{Key: "baz", Version: 0, Value: []byte{0x03}},
	}
	checkHex(t, "put request hmac", PutRequestHMAC(secret, kvs), vecPutRequest)
	checkHex(t, "put reply hmac", PutReplyHMAC(secret, kvs), vecPutReply)
}

func TestParsePublicKey(t *testing.T) {
	if _, err := ParsePublicKey(unhex(t, vecClientID)); err != nil {
		t.Fatalf("valid key refused: %v", err)
	}
	uncompressed := secp256k1.PrivKeyFromBytes(repeated(0x11)).PubKey().SerializeUncompressed()
	for name, b := range map[string][]byte{
		"empty":        nil,
		"short":        unhex(t, vecClientID)[:32],
		"not on curve": append([]byte{0x02}, bytes.Repeat([]byte{0xff}, 32)...),
		"uncompressed": uncompressed,
	} {
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrBadPublicKey) {
			t.Errorf("%s: err = %v, want ErrBadPublicKey", name, err)
		}
	}
}

func TestExtMACsAreDomainSeparatedAndUnambiguous(t *testing.T) {
	secret := repeated(0x33)
	txid := repeated(0x44)
	commit := TxRequestMAC(secret, DomainCommitRequest, txid, nil)
	abort := TxRequestMAC(secret, DomainAbortRequest, txid, nil)
	if bytes.Equal(commit, abort) {
		t.Error("commit and abort requests share a MAC")
	}
	// The base protocol's concatenation cannot tell ("ab","c") from ("a","bc");
	// the extension's length prefixes must.
	a := BoundGetReplyMAC(secret, "", nil, []*lsspb.KeyValue{{Key: "ab", Value: []byte("c")}})
	b := BoundGetReplyMAC(secret, "", nil, []*lsspb.KeyValue{{Key: "a", Value: []byte("bc")}})
	if bytes.Equal(a, b) {
		t.Error("bound get MAC is ambiguous across key/value boundaries")
	}
	p1 := BoundGetReplyMAC(secret, "x", []byte("n"), nil)
	p2 := BoundGetReplyMAC(secret, "xy", []byte("n"), nil)
	if bytes.Equal(p1, p2) {
		t.Error("bound get MAC does not cover the prefix")
	}
}
