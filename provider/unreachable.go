package provider

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unavailableError is a provider that could not be reached (UNAVAILABLE or
// DEADLINE_EXCEEDED), worded for a person in one line instead of gRPC's nested
// "rpc error: code = ... desc = connection error: desc = transport: ..." chain.
// errors.Is still finds ErrUnavailable, and status.FromError the gRPC status.
type unavailableError struct {
	reason string
	err    error
}

func newUnavailable(st *status.Status, err error) error {
	return &unavailableError{reason: unreachableReason(st), err: err}
}

func (e *unavailableError) Error() string   { return "unreachable: " + e.reason }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// unreachableReason says why a server could not be reached, with the likely fix
// for the mistakes people make: TLS on one side only, a wrong port, a server not
// running. It is a pure function of the status, so the table is tested alone.
func unreachableReason(st *status.Status) string {
	msg := st.Message()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused (is the server running, and on this port?)"
	case strings.Contains(msg, "no such host"):
		return "no such host: " + lastPart(msg)
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "the server does not speak TLS; use an http:// address"
	case strings.Contains(msg, "frame too large"):
		// A TLS server's answer to plaintext, read as an HTTP/2 frame header.
		return "the server requires TLS: use an https:// address (" + lastPart(msg) + ")"
	case strings.Contains(msg, "error reading server preface") || strings.Contains(msg, "connection reset by peer"):
		// A TLS server may close a plaintext connection so, but so does a
		// server (or a proxy in front of it) that is stopping.
		return "the connection was closed at once: the server may be stopping, or it requires TLS (then use an https:// address) (" + lastPart(msg) + ")"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return "TLS handshake failed: " + lastPart(msg)
	case st.Code() == codes.DeadlineExceeded || strings.Contains(msg, "i/o timeout"):
		return "no answer in time (" + lastPart(msg) + ")"
	}
	return lastPart(msg)
}

// lastPart is the innermost reason of gRPC's nested message, without its quotes.
func lastPart(msg string) string {
	msg = strings.TrimRight(msg, `"`)
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	msg = strings.Trim(msg, `"`)
	msg = strings.TrimPrefix(msg, "transport: ")
	msg = strings.TrimPrefix(msg, "Error while dialing: ")
	msg = strings.TrimPrefix(msg, "authentication handshake failed: ")
	return msg
}
