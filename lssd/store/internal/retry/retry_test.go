package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBounded(t *testing.T) {
	ctx, cancel := Bounded(context.Background(), time.Minute)
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > time.Minute {
		t.Fatalf("a context without deadline got %v, %v; want one within a minute", d, ok)
	}
	want := time.Now().Add(time.Hour)
	parent, cancelParent := context.WithDeadline(context.Background(), want)
	defer cancelParent()
	ctx, cancel = Bounded(parent, time.Minute)
	defer cancel()
	if d, _ := ctx.Deadline(); !d.Equal(want) {
		t.Fatalf("the caller's deadline was replaced: %v, want %v", d, want)
	}
}

func TestBackoffBounded(t *testing.T) {
	for attempt := 0; attempt <= 100; attempt++ {
		if d := Backoff(attempt); d <= 0 || d > MaxBackoff {
			t.Fatalf("Backoff(%d) = %v, want within (0, %v]", attempt, d, MaxBackoff)
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context = %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}

// Backoff grows with the attempt and is randomized, so front-ends that collided
// do not retry in lockstep.
func TestBackoffGrowsWithJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 100 {
		d := Backoff(20)
		if d < MaxBackoff/2 || d > MaxBackoff {
			t.Fatalf("Backoff(20) = %v, want within [%v, %v]", d, MaxBackoff/2, MaxBackoff)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("100 draws of Backoff(20) gave %d distinct pauses; want them randomized", len(seen))
	}
	if first, late := Backoff(1), Backoff(20); first > 2*time.Millisecond || late < MaxBackoff/2 {
		t.Fatalf("Backoff(1) = %v, Backoff(20) = %v; want about 1ms growing to about %v", first, late, MaxBackoff)
	}
}
