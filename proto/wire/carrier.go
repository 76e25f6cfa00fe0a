package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// CarrierMagic starts every carrier: 0xC7 "LQ2".
var CarrierMagic = []byte{0xC7, 'L', 'Q', '2'}

// ErrCarrier is returned when bytes read back from a stock provider are not a
// well-formed carrier.
var ErrCarrier = errors.New("malformed quorum carrier")

// WrapCarrier is how the quorum format stores a value on a stock (base-protocol)
// provider, which has no place for the txid and commit proof the extension keeps
// beside a value:
//
//	0xC7 "LQ2" || u32 len(txid) || txid || u32 len(proof) || proof || sealed
//
// sealed is the v2-sealed value. Nothing here is authenticated by itself: the
// value MAC binds the txid, and the proof verifies against the txid and sealed.
func WrapCarrier(txid, proof, sealed []byte) []byte {
	out := make([]byte, 0, len(CarrierMagic)+8+len(txid)+len(proof)+len(sealed))
	out = append(out, CarrierMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(txid)))
	out = append(out, txid...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(proof)))
	out = append(out, proof...)
	return append(out, sealed...)
}

// UnwrapCarrier splits a carrier into its txid, proof and sealed value (sharing
// b's memory). Anything else is ErrCarrier.
func UnwrapCarrier(b []byte) (txid, proof, sealed []byte, err error) {
	if !bytes.HasPrefix(b, CarrierMagic) {
		return nil, nil, nil, fmt.Errorf("%w: no carrier header", ErrCarrier)
	}
	rest := b[len(CarrierMagic):]
	if txid, rest, err = lengthPrefixed(rest, "txid"); err != nil {
		return nil, nil, nil, err
	}
	if proof, rest, err = lengthPrefixed(rest, "proof"); err != nil {
		return nil, nil, nil, err
	}
	return txid, proof, rest, nil
}

// lengthPrefixed reads one u32-length-prefixed field from b.
func lengthPrefixed(b []byte, what string) (field, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%w: truncated before the %s length", ErrCarrier, what)
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("%w: %s of %d bytes, only %d left", ErrCarrier, what, n, len(b)-4)
	}
	return b[4 : 4+n], b[4+n:], nil
}
