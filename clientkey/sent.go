package clientkey

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lssquorum/lss/internal/durable"
)

// SentValuesFile is the file of a client directory that remembers which value
// lss-cli encrypted for each (key, version) it sent (see SentValues).
const SentValuesFile = "sent-values"

// MaxSentValues bounds how many (key, version) pairs SentValues remembers; the
// least recently sent are forgotten first. 4096 records are 128 KiB.
const MaxSentValues = 4096

// ErrKeystreamReuse: a different value was already encrypted and sent for this
// key and version, and sending another would reuse the keystream.
var ErrKeystreamReuse = errors.New("refusing to reuse a keystream")

// sentMagic opens the file; the records follow. A record is slot (16 bytes) ||
// digest (16 bytes).
const sentMagic = "lss-cli sent-values v1\n"

const sentRecordSize = 32

// SentValues remembers, in Dir/sent-values, a keyed digest of the value sent for
// each (key, version), so that a later put of a different value at the same key
// and version is refused before it is encrypted.
//
// Why: the Rust value format (kept for compatibility) encrypts with ChaCha20 under
// a nonce derived from the key and version alone, so two different values sent for
// one (key, version) are XORed with the same keystream, and whoever sees both
// ciphertexts (the server, or an eavesdropper without TLS) gets the XOR of the two
// plaintexts. A value counts as sent once it is recorded, before the request
// leaves: a put that failed, timed out or was refused as a conflict still showed
// its ciphertext. Sending the same value again is harmless (the same bytes).
//
// The file holds no key names or values, only HMACs under the client's HMAC
// secret, truncated to 16 bytes. It is bounded by MaxSentValues; a pair older
// than that is forgotten, which matters little because retries follow their
// first attempt closely. Concurrent lss-cli processes on one directory take
// turns under an flock of Dir/sent-values.lock.
type SentValues struct {
	// Dir is the client directory (next to client-key).
	Dir string
	// HMACSecret keys the digests: the client's value-HMAC secret.
	HMACSecret []byte
	// Max is how many pairs are remembered; MaxSentValues if zero.
	Max int
}

// Record checks that no different value was sent for (key, version) and records
// value as sent, durably, before the caller sends it. A different value is an
// error wrapping ErrKeystreamReuse and saying how to go on.
func (s SentValues) Record(key string, version int64, value []byte) error {
	path := filepath.Join(s.Dir, SentValuesFile)
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	records, err := readSent(path)
	if err != nil {
		return err
	}
	slot, digest := s.digests(key, version, value)
	kept := make([]byte, 0, len(records)+sentRecordSize)
	for r := records; len(r) > 0; r = r[sentRecordSize:] {
		rec := r[:sentRecordSize]
		if !bytes.Equal(rec[:16], slot) {
			kept = append(kept, rec...)
			continue
		}
		if !hmac.Equal(rec[16:], digest) {
			return fmt.Errorf("%w: key %q at version %d was already sent with a different value "+
				"(the Rust value format's nonce depends only on the key and version, so a second value "+
				"would be encrypted with the same ChaCha20 keystream); put the value sent before again, "+
				"or write the new value at the next version", ErrKeystreamReuse, key, version)
		}
	}
	// The record moves to the end: the most recently sent are forgotten last.
	kept = append(append(kept, slot...), digest...)
	limit := s.Max
	if limit <= 0 {
		limit = MaxSentValues
	}
	if n := len(kept) / sentRecordSize; n > limit {
		kept = kept[(n-limit)*sentRecordSize:]
	}
	return durable.WriteReplace(path, append([]byte(sentMagic), kept...), 0o600)
}

// digests are the record of (key, version, value): slot names the pair, digest
// the value; both length-delimited and domain-separated HMACs.
func (s SentValues) digests(key string, version int64, value []byte) (slot, digest []byte) {
	m := hmac.New(sha256.New, s.HMACSecret)
	var buf []byte
	buf = append(buf, "lss-cli sent-values v1"...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(key)))
	buf = append(buf, key...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(version))
	m.Write(buf)
	slot = m.Sum(nil)[:16]
	m.Write(value)
	digest = m.Sum(nil)[:16]
	return slot, digest
}

// readSent returns the records of path; a missing file has none.
func readSent(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte(sentMagic)) || (len(b)-len(sentMagic))%sentRecordSize != 0 {
		return nil, fmt.Errorf("%s is not a sent-values file (%w); remove it to start afresh, "+
			"at the risk of sending two values for a key and version again", path, ErrCorrupt)
	}
	return b[len(sentMagic):], nil
}

// lockFile takes an exclusive flock of path (created if absent, with its
// directory) and returns its release.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	// The lock is held for one read and one small write; a holder that keeps it
	// past lockWait is stuck, and waiting forever would hang the put.
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s (held by another lss-cli?): %w", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockWait bounds the wait for another lss-cli's lock on the sent-values file.
const lockWait = 5 * time.Second
