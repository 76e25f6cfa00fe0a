package quorumcli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lssquorum/lss/internal/cmdmain"
	"github.com/lssquorum/lss/quorum"
)

// Exit statuses of lss-quorum.
const (
	// ExitOK: the command did what it was asked; for audit, every provider agrees.
	ExitOK = 0
	// ExitFailure: the command could not do its work (no quorum of providers, a
	// provider refused, a file could not be written).
	ExitFailure = 1
	// ExitUsage: bad arguments, flags or configuration; nothing was done.
	ExitUsage = 2
	// ExitDisagree: audit found providers that disagree (behind, faulty,
	// unreachable...); with --repair, they still disagree after the repair.
	ExitDisagree = 3
	// ExitRollback: the providers that answered hold older versions than this
	// client already saw acknowledged (the watermark): a rollback. No data was
	// returned.
	ExitRollback = 4
	// ExitIndeterminate: an atomic put whose outcome is not known yet: it may
	// still commit or abort (never half). `lss-quorum recover` settles it; until
	// then, do not reuse its versions for other values.
	ExitIndeterminate = 5
)

// exitError carries an exit status with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage problem: bad flags, arguments or values on
// the command line (ExitUsage, and Main prints the usage line after it).
func usageError(err error) error { return &cmdmain.UsageError{Err: err} }

// usagef is usageError with formatting.
func usagef(format string, args ...any) error { return usageError(fmt.Errorf(format, args...)) }

// configError marks err as a problem with the configuration: the file, the
// client key, the files it names, the pinned identities; or with a value the
// command refuses (reput of a value that is not the acknowledged one). Exit
// status ExitUsage like a usage error, since nothing was done, but only the
// message is printed: the command line was well formed, so its usage line
// would not help (etcdctl prints only the error for these too).
func configError(err error) error { return &exitError{code: ExitUsage, err: err} }

// configf is configError with formatting.
func configf(format string, args ...any) error { return configError(fmt.Errorf(format, args...)) }

// disagreeError is returned by audit (and recover) when providers disagree; the report already
// said how, so only a one-line summary is printed.
type disagreeError struct{ summary string }

func (e *disagreeError) Error() string { return e.summary }

// ExitCode maps an error returned by a command to the process exit status.
func ExitCode(err error) int {
	var ee *exitError
	var de *disagreeError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, quorum.ErrRollback):
		return ExitRollback
	case errors.Is(err, quorum.ErrIndeterminate):
		return ExitIndeterminate
	case errors.As(err, &de):
		return ExitDisagree
	case errors.As(err, &ee):
		return ee.code
	case cmdmain.IsUsage(err):
		return ExitUsage
	}
	return ExitFailure
}

// indeterminateError words a library ErrIndeterminate for the command line: the
// library says "run Recover" (its method); the operator runs the command.
type indeterminateError struct{ err error }

func (e *indeterminateError) Error() string {
	msg := strings.ReplaceAll(e.err.Error(), "run Recover to", "run `lss-quorum recover` to")
	return msg + "\nthe put may yet commit or abort, never half: run `lss-quorum recover` to settle it (exit status 5)"
}
func (e *indeterminateError) Unwrap() error { return e.err }

// forCommandLine rewords errors the library words for programs.
func forCommandLine(err error) error {
	if errors.Is(err, quorum.ErrIndeterminate) {
		return &indeterminateError{err}
	}
	return err
}
