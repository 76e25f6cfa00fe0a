package quorum

import "sync"

// Progress says how far a long operation has come (Audit, its repair, the
// audit after it, RecoverWith), for a caller that shows it: lss-quorum does on
// a terminal. The library itself never prints progress.
type Progress struct {
	// Step names what is being done, in words: "reading providers",
	// "reading transaction records", "repairing providers", "settling
	// transactions"; the audit after a repair prefixes its steps with
	// "after repair: ".
	Step string
	// Done of Total units of the step (providers, transactions).
	Done, Total int
}

// ProgressFunc receives Progress reports one at a time (never concurrently),
// from the caller's goroutine or the operation's workers; it must return
// quickly.
type ProgressFunc func(Progress)

// progress serializes the reports of one operation to a ProgressFunc; the
// zero value (no func) reports nothing.
type progress struct {
	mu sync.Mutex
	fn ProgressFunc
}

func newProgress(fn ProgressFunc) *progress { return &progress{fn: fn} }

// report sends one report, if anyone listens.
func (p *progress) report(step string, done, total int) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn(Progress{Step: step, Done: done, Total: total})
}

// counter reports step at 0 of total, then one more done at each call, from
// any goroutine, in order.
func (p *progress) counter(step string, total int) func() {
	p.report(step, 0, total)
	done := 0
	return func() {
		if p == nil || p.fn == nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		done++
		p.fn(Progress{Step: step, Done: done, Total: total})
	}
}

// prefixed is fn with prefix before every step.
func (fn ProgressFunc) prefixed(prefix string) ProgressFunc {
	if fn == nil {
		return nil
	}
	return func(p Progress) {
		p.Step = prefix + p.Step
		fn(p)
	}
}
