package testnet_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lssquorum/lss/testnet"
)

// A network of three providers, the last speaking only the base protocol, with
// one provider rolled back to an earlier snapshot and another made slow.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := testnet.Start(ctx, testnet.Config{N: 3, BaseOnly: []int{2}})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()

	ps := n.Providers()
	snap, err := ps[0].Snapshot()
	if err != nil {
		log.Fatal(err)
	}
	// ... clients write through ps[i].Addr() ...
	if err := ps[0].Rollback(ctx, snap); err != nil {
		log.Fatal(err)
	}
	ps[1].SetLatency(50 * time.Millisecond)

	for _, p := range ps {
		fmt.Println(p.Name(), p.Running(), p.BaseOnly(), len(p.ServerID()))
	}
	// Output:
	// p0 true false 33
	// p1 true false 33
	// p2 true true 33
}
