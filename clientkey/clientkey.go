package clientkey

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/proto/wire"
)

// Load reads the client private key at path.
func Load(path string) (*secp256k1.PrivateKey, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivate(b)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrCorrupt, path, err)
	}
	return key, nil
}

// LoadOrCreate reads the client private key at path, creating a new random one
// if the file does not exist. created reports whether it did.
func LoadOrCreate(path string) (key *secp256k1.PrivateKey, created bool, err error) {
	key, err = Load(path)
	if !errors.Is(err, ErrNotInitialized) {
		return key, false, err
	}
	fresh, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, false, err
	}
	err = createFile(path, []byte(hex.EncodeToString(fresh.Serialize())))
	if errors.Is(err, os.ErrExist) {
		// Another process created it first: use that one.
		key, err = Load(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create client key %s: %w", path, err)
	}
	return fresh, true, nil
}

// parsePrivate accepts exactly 32 bytes of hex (surrounding whitespace allowed)
// that are a valid secp256k1 secret: not zero and below the group order.
func parsePrivate(b []byte) (*secp256k1.PrivateKey, error) {
	raw, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("not hex: %v", err)
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("%d bytes, want 32", len(raw))
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(raw); overflow || s.IsZero() {
		return nil, errors.New("not a valid secp256k1 private key")
	}
	return secp256k1.NewPrivateKey(&s), nil
}

// LoadServerKey reads the pinned 33-byte server public key (server_id) at path.
func LoadServerKey(path string) ([]byte, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	id, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err == nil {
		_, err = wire.ParsePublicKey(id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrCorrupt, path, err)
	}
	return id, nil
}

// PinServerKey records serverID at path. If a key is already pinned there, it
// succeeds only if it is the same one (ErrServerKeyChanged otherwise); a corrupt
// file is an error, not overwritten. created reports whether it wrote the file.
func PinServerKey(path string, serverID []byte) (created bool, err error) {
	if _, err := wire.ParsePublicKey(serverID); err != nil {
		return false, fmt.Errorf("server key: %w", err)
	}
	for range 2 { // a second round only after losing a creation race
		pinned, err := LoadServerKey(path)
		switch {
		case err == nil && bytes.Equal(pinned, serverID):
			return false, nil
		case err == nil:
			return false, fmt.Errorf("%w: %s holds %x, server presents %x; remove the file to trust the new key",
				ErrServerKeyChanged, path, pinned, serverID)
		case !errors.Is(err, ErrNotInitialized):
			return false, err
		}
		err = createFile(path, []byte(hex.EncodeToString(serverID)))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return false, fmt.Errorf("pin server key %s: %w", path, err)
		}
	}
	return false, fmt.Errorf("pin server key %s: file keeps changing", path)
}
