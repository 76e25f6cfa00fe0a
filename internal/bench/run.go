package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Defaults applied to zero Options fields.
const (
	// DefaultWriters is the provider-load workload's number of concurrent writers.
	DefaultWriters = 32
	// DefaultLoadRounds is the number of transactions each provider-load writer
	// puts: half inserts, half updates.
	DefaultLoadRounds = 100
	// DefaultSignerRounds is the number of puts of the signer workload.
	DefaultSignerRounds = 1000
	// DefaultGetEvery is how many signer puts come between two full gets.
	DefaultGetEvery = 10
	// DefaultMaxDuration bounds one run (one workload in one mode).
	DefaultMaxDuration = 2 * time.Minute
	// DefaultProgressEvery is the interval between progress lines.
	DefaultProgressEvery = 5 * time.Second
	// setupTimeout bounds connecting the writers before a run.
	setupTimeout = 30 * time.Second
)

// Options configure a run.
type Options struct {
	// Workload is what each writer does.
	Workload Workload
	// Rounds is the number of transactions each writer puts; DefaultLoadRounds or
	// DefaultSignerRounds if zero.
	Rounds int
	// Writers is the number of concurrent writers of the provider-load workload;
	// DefaultWriters if zero. The signer workload always has one.
	Writers int
	// GetEvery is the number of signer puts between two full gets;
	// DefaultGetEvery if zero.
	GetEvery int
	// MaxDuration bounds the run; DefaultMaxDuration if zero. A run that reaches
	// it stops and reports what it completed (Result.Truncated).
	MaxDuration time.Duration
	// Progress receives a line every ProgressEvery while a run lasts; nil for
	// none.
	Progress io.Writer
	// ProgressEvery is the interval between progress lines;
	// DefaultProgressEvery if zero.
	ProgressEvery time.Duration
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	if _, ok := workloadNames[o.Workload]; !ok {
		return o, fmt.Errorf("bench: unknown workload %d", int(o.Workload))
	}
	if o.Rounds < 0 || o.Writers < 0 || o.GetEvery < 0 || o.MaxDuration < 0 || o.ProgressEvery < 0 {
		return o, fmt.Errorf("bench: negative option (rounds %d, writers %d, get every %d, max duration %v, progress every %v)",
			o.Rounds, o.Writers, o.GetEvery, o.MaxDuration, o.ProgressEvery)
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultLoadRounds
		if o.Workload == WorkloadSigner {
			o.Rounds = DefaultSignerRounds
		}
	}
	if o.Writers == 0 {
		o.Writers = DefaultWriters
	}
	if o.Workload == WorkloadSigner {
		o.Writers = 1
	}
	if o.GetEvery == 0 {
		o.GetEvery = DefaultGetEvery
	}
	if o.MaxDuration == 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	return o, nil
}

// Run runs the workload on writers made by env and reports what they did, under
// the name of mode. Failed puts and gets are counted, not fatal; Run fails only
// when the writers cannot be connected or ctx ends.
func Run(ctx context.Context, env Env, mode Mode, o Options) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, err
	}
	writers, err := connect(ctx, env, o)
	if err != nil {
		return Result{}, err
	}

	runCtx, cancel := context.WithTimeout(ctx, o.MaxDuration)
	defer cancel()
	var (
		done  atomic.Int64 // transactions attempted, for progress
		tally = make([]tally, len(writers))
		wg    sync.WaitGroup
	)
	stopProgress := progress(o, mode, &done)
	start := time.Now()
	for i, w := range writers {
		wg.Go(func() { tally[i] = drive(runCtx, w, i, o, &done) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()

	res := Result{Workload: o.Workload, Mode: mode, Writers: len(writers), Rounds: o.Rounds}
	var puts, gets []time.Duration
	for _, t := range tally {
		puts = append(puts, t.puts...)
		gets = append(gets, t.gets...)
		res.Errors += t.errors
		if res.FirstError == "" && t.firstErr != nil {
			res.FirstError = t.firstErr.Error()
		}
		res.Truncated = res.Truncated || t.truncated
	}
	res.Transactions = len(puts)
	res.Items = len(puts) * o.Workload.itemsPerTx()
	res.Put, res.Get = summarize(puts), summarize(gets)
	res.finish(elapsed)

	// Closing waits for writes a quorum left running; it is not part of the
	// measured time, but its failures are counted.
	for _, w := range writers {
		if err := w.Close(); err != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = "close: " + err.Error()
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// connect makes o.Writers writers and warms each one up with a get of its own
// prefix, so connection setup is not measured.
func connect(ctx context.Context, env Env, o Options) ([]Writer, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	writers := make([]Writer, o.Writers)
	g, gctx := errgroup.WithContext(ctx)
	for i := range writers {
		g.Go(func() error {
			w, err := env.NewWriter(gctx)
			if err != nil {
				return fmt.Errorf("bench: writer %d: %w", i, err)
			}
			writers[i] = w
			if _, err := w.Get(gctx, prefixOf(o.Workload, i)); err != nil {
				return fmt.Errorf("bench: writer %d warm-up get: %w", i, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		var errs []error
		for _, w := range writers {
			if w != nil {
				errs = append(errs, w.Close())
			}
		}
		return nil, errors.Join(append([]error{err}, errs...)...)
	}
	return writers, nil
}

// prefixOf is the key prefix writer i writes under.
func prefixOf(wl Workload, i int) string {
	if wl == WorkloadSigner {
		return signerPrefix
	}
	return fmt.Sprintf("w%03d/", i)
}

// tally is what one writer did.
type tally struct {
	puts, gets []time.Duration
	errors     int
	firstErr   error
	truncated  bool
}

func (t *tally) fail(err error) {
	t.errors++
	if t.firstErr == nil {
		t.firstErr = err
	}
}

// cutByDeadline says whether a call that failed was cut short by the run's own
// bound: ctx ended, or its deadline is about to. A server answers
// DEADLINE_EXCEEDED on its own timer, started from the deadline the call carried,
// and that answer can arrive a moment before ctx's timer fires here.
func cutByDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < 50*time.Millisecond
}

// drive runs writer i's rounds until they are done or ctx ends. A call that
// fails because ctx ended marks the run truncated instead of counting an error.
func drive(ctx context.Context, w Writer, i int, o Options, done *atomic.Int64) tally {
	t := tally{puts: make([]time.Duration, 0, o.Rounds)}
	for r := range o.Rounds {
		if ctx.Err() != nil {
			t.truncated = true
			return t
		}
		kvs := signerTx(r)
		if o.Workload == WorkloadProvider {
			kvs = loadTx(i, r)
		}
		begin := time.Now()
		err := w.Put(ctx, kvs)
		took := time.Since(begin)
		done.Add(1)
		switch {
		case err != nil && cutByDeadline(ctx):
			t.truncated = true
			return t
		case err != nil:
			t.fail(fmt.Errorf("writer %d put %d: %w", i, r, err))
			continue
		}
		t.puts = append(t.puts, took)

		if o.Workload != WorkloadSigner || (r+1)%o.GetEvery != 0 {
			continue
		}
		begin = time.Now()
		n, err := w.Get(ctx, signerPrefix)
		took = time.Since(begin)
		switch {
		case err != nil && cutByDeadline(ctx):
			t.truncated = true
			return t
		case err != nil:
			t.fail(fmt.Errorf("get after put %d: %w", r, err))
		case n != SignerKeys:
			t.fail(fmt.Errorf("get after put %d returned %d keys, want %d", r, n, SignerKeys))
		default:
			t.gets = append(t.gets, took)
		}
	}
	return t
}

// progress prints a line to o.Progress every o.ProgressEvery until the returned
// function is called (which waits for the printer to stop).
func progress(o Options, mode Mode, done *atomic.Int64) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	total := o.Rounds * o.Writers
	quit := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(o.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				fmt.Fprintf(o.Progress, "bench %s/%s: %d/%d transactions after %.0fs\n",
					o.Workload, mode, done.Load(), total, time.Since(start).Seconds())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}
