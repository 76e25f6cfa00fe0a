package envelope

import (
	"errors"
	"fmt"
)

// ErrEnvelope is wrapped by every error of Decrypt: the value cannot be read as a
// value this client wrote there.
var ErrEnvelope = errors.New("value envelope")

// The ways Decrypt fails, each wrapping ErrEnvelope.
var (
	// ErrNotEnvelope: the value is empty or shorter than an envelope.
	ErrNotEnvelope = fmt.Errorf("%w: not an encrypted value", ErrEnvelope)
	// ErrUnknownFormat: the leading format byte is not one this version reads
	// (a legacy plaintext value, or a format from a later version).
	ErrUnknownFormat = fmt.Errorf("%w: unknown format", ErrEnvelope)
	// ErrUnknownKeyID: the envelope names a key this client does not have.
	ErrUnknownKeyID = fmt.Errorf("%w: unknown key id", ErrEnvelope)
	// ErrDecrypt: the tag does not verify: the ciphertext was altered, moved to
	// another key or version, or sealed under another client's key.
	ErrDecrypt = fmt.Errorf("%w: decryption failed", ErrEnvelope)
)
