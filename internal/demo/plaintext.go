package demo

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lssquorum/lss/provider"
	"github.com/lssquorum/lss/testnet"
)

// showNoPlaintext searches every file of every provider's data directory (its
// database and whatever else the server keeps) for each value written, and
// fails if one is found: the quorum client encrypts every value before it leaves,
// so the providers hold only ciphertext.
func (d *run) showNoPlaintext(rounds ...[]provider.KV) error {
	n := 0
	for _, r := range rounds {
		n += len(r)
	}
	for _, p := range d.net {
		files, found, err := searchDir(p, rounds)
		if err != nil {
			return fmt.Errorf("searching %s's data directory: %w", p.Name(), err)
		}
		if found != nil {
			return fmt.Errorf("%s's data directory holds the plaintext %q", p.Name(), found)
		}
		d.printf("  %s: %d file(s) in its data directory searched for the %d values written: no plaintext.\n", p.Name(), files, n)
	}
	d.printf("  The values are encrypted (XChaCha20-Poly1305, a fresh nonce per write) before they leave the client;\n")
	d.printf("  the providers store, compare and repair ciphertext, and only the client decrypts.\n")
	return nil
}

// searchDir returns how many files p's data directory holds and the first value
// of rounds found in one of them, if any.
func searchDir(p *testnet.Provider, rounds [][]provider.KV) (files int, found []byte, err error) {
	err = filepath.WalkDir(p.DataDir(), func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() || found != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, r := range rounds {
			for _, kv := range r {
				if bytes.Contains(b, kv.Value) {
					found = kv.Value
				}
			}
		}
		return nil
	})
	return files, found, err
}
