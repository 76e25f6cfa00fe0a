package quorum

import (
	"context"
	"errors"

	"github.com/lssquorum/lss/provider"
)

func (c *Client) useAtomic() bool { return false }

func (c *Client) putAtomic(ctx context.Context, kvs []provider.KV) (*PutResult, error) {
	return nil, errors.New("atomic put is not available")
}
