package provider

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestUnreachableReason(t *testing.T) {
	for _, tc := range []struct {
		code codes.Code
		msg  string
		want string
	}{
		{codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`, "connection refused (is the server running"},
		{codes.Unavailable, `connection error: desc = "error reading server preface: http2: frame too large"`, "the server requires TLS: use an https:// address"},
		{codes.Unavailable, `connection error: desc = "error reading server preface: EOF"`, "closed at once: the server may be stopping, or it requires TLS (then use an https:// address)"},
		{codes.Unavailable, `connection error: desc = "transport: Error while dialing: read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer"`, "the server may be stopping"},
		{codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`, "does not speak TLS; use an http:// address"},
		{codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`, "TLS handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{codes.DeadlineExceeded, "context deadline exceeded", "no answer in time (context deadline exceeded)"},
		{codes.Unavailable, `name resolver error: produced zero addresses`, "name resolver error: produced zero addresses"},
	} {
		if got := unreachableReason(status.New(tc.code, tc.msg)); !strings.Contains(got, tc.want) {
			t.Errorf("%v %q: %q, want it to contain %q", tc.code, tc.msg, got, tc.want)
		}
	}
	// Still an ErrUnavailable, with its gRPC status reachable.
	st := status.New(codes.Unavailable, "connection refused")
	err := &Error{Provider: "p", Op: "get", Err: newUnavailable(st, st.Err())}
	if !errors.Is(err, ErrUnavailable) || status.Code(err) != codes.Unavailable {
		t.Errorf("errors.Is %v, code %v", errors.Is(err, ErrUnavailable), status.Code(err))
	}
	if got := err.Error(); got != "provider p: get: unreachable: connection refused (is the server running, and on this port?)" {
		t.Errorf("Error() = %q", got)
	}
}
