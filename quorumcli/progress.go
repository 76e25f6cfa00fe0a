package quorumcli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/lssquorum/lss/quorum"
)

// progressInterval bounds how often the progress line is rewritten.
const progressInterval = 100 * time.Millisecond

// fileDescriptor is what *os.File offers to ask whether it is a terminal.
type fileDescriptor interface{ Fd() uintptr }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(fileDescriptor)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine shows a long operation's progress on one line of stderr,
// rewritten in place.
type progressLine struct {
	w       io.Writer
	op      string
	mu      sync.Mutex
	last    time.Time
	written bool
}

// progress returns the quorum library's progress callback for op, showing it on
// stderr, and a func that clears the line once op is over. When stderr is not
// a terminal (piped, redirected, a test's buffer), the callback is nil and
// nothing is written: progress is for people watching, and stdout (where
// --json goes) is never touched.
func (g *globals) progress(op string) (quorum.ProgressFunc, func()) {
	if !isTerminal(g.stderr) {
		return nil, func() {}
	}
	p := &progressLine{w: g.stderr, op: op}
	return p.show, p.clear
}

// show rewrites the line, at most every progressInterval except at the end of
// a step.
func (p *progressLine) show(r quorum.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if r.Done < r.Total && now.Sub(p.last) < progressInterval && r.Done != 0 {
		return
	}
	p.last = now
	p.written = true
	// \r returns to the start of the line, \x1b[K erases what was left there.
	fmt.Fprintf(p.w, "\r\x1b[K%s: %s %d/%d", p.op, r.Step, r.Done, r.Total)
}

// clear erases the line, so that what follows starts on a clean one.
func (p *progressLine) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.written = false
	}
}
