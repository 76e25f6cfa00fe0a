package quorum

import (
	"context"
	"testing"
	"time"
)

func TestKeyOrder(t *testing.T) {
	t.Parallel()
	var o keyOrder
	ctx := context.Background()
	wait1, done1 := o.enqueue([]string{"a", "b"})
	wait2, done2 := o.enqueue([]string{"b"})
	wait3, done3 := o.enqueue([]string{"c"})
	wait4, done4 := o.enqueue([]string{"a", "c"})

	if err := wait1(ctx); err != nil {
		t.Fatalf("first write waits: %v", err)
	}
	if err := wait3(ctx); err != nil {
		t.Fatalf("a write of an unrelated key waits: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := wait2(short); err == nil {
		t.Fatal("second write of b did not wait for the first")
	}
	done1()
	if err := wait2(ctx); err != nil {
		t.Fatalf("second write of b after the first finished: %v", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if err := wait4(short2); err == nil {
		t.Fatal("write of a and c did not wait for the write of c")
	}
	done3()
	if err := wait4(ctx); err != nil {
		t.Fatalf("write of a and c after both finished: %v", err)
	}
	done2()
	done4()
	if len(o.tails) != 0 {
		t.Errorf("finished writes left %d keys tracked", len(o.tails))
	}
}
