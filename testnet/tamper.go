package testnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/lssquorum/lss/lssd"
	"github.com/lssquorum/lss/lssd/store"
	boltstore "github.com/lssquorum/lss/lssd/store/bolt"
	pebblestore "github.com/lssquorum/lss/lssd/store/pebble"
)

// ErrKeyNotFound is returned by Tamper when the client has no such key.
var ErrKeyNotFound = errors.New("testnet: key not found")

// Tamper replaces the stored value of client's key with mutate(value), keeping its
// version, as a provider that corrupts or forges data would. The value passed to
// mutate is a copy, as stored (for the quorum client: plain value || value HMAC).
// The server is stopped for the edit, done through the store's own backend on the
// data file, and started again if it was running.
func (p *Provider) Tamper(ctx context.Context, client []byte, key string, mutate func(value []byte) []byte) error {
	if mutate == nil {
		return errors.New("testnet: tamper: nil mutate function")
	}
	p.ops.Lock()
	defer p.ops.Unlock()
	err := p.whileStopped(ctx, func() error {
		return p.tamperStore(ctx, client, key, mutate)
	})
	if err != nil {
		return fmt.Errorf("testnet: tamper %s key %q: %w", p.name, key, err)
	}
	p.logger.Info("provider value tampered with", "client", hex.EncodeToString(client), "key", key)
	return nil
}

// tamperStore edits one value in the stopped server's database, in one
// transaction.
func (p *Provider) tamperStore(ctx context.Context, client []byte, key string, mutate func([]byte) []byte) (err error) {
	var b store.Backend
	if p.database == "pebble" {
		b, err = pebblestore.Open(ctx, pebblestore.Options{Dir: filepath.Join(p.dataDir, lssd.PebbleDirName)})
	} else {
		b, err = boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(p.dataDir, lssd.BoltFileName)})
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	return b.Update(ctx, client, func(tx store.Txn) error {
		kv, ok, err := tx.Get(key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrKeyNotFound
		}
		kv.Value = mutate(bytes.Clone(kv.Value))
		return tx.Set(kv)
	})
}
