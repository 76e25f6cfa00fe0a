package quorum

import (
	"context"
	"sync"
)

// fanOut calls fn for each of ms that pick accepts (nil accepts all), in
// parallel, each call under its own deadline of Config.Timeout within ctx, and
// returns once every call returned. i is the index in ms. It is the one way the
// client talks to several providers at once when it needs every answer; Get
// (gather) and Put return at a quorum instead, and keep their own loops.
func (c *Client) fanOut(ctx context.Context, ms []*member, pick func(i int, m *member) bool, fn func(ctx context.Context, i int, m *member)) {
	var wg sync.WaitGroup
	for i, m := range ms {
		if pick != nil && !pick(i, m) {
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			fn(cctx, i, m)
		})
	}
	wg.Wait()
}
