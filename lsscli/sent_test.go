package lsscli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lssquorum/lss/clientkey"
)

// A second, different value for a key and version already sent is refused before
// anything is sent (no conflict is printed, the server is not asked), across
// processes (each run is a fresh Main), even when the first put failed; the same
// value may be sent again.
func TestPutRefusesKeystreamReuse(t *testing.T) {
	t.Parallel()
	d := startServer(t)
	s := newSession(t, d)
	if r := s.run("init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	// Version 1 of an absent key: the server refuses it as a conflict, but the
	// ciphertext of aa at (k, 1) was sent.
	if r := s.run("put", "k", "1", "aa"); r.code != 1 || !strings.Contains(r.stdout, "conflict key: k, version: -1") {
		t.Fatalf("put at a wrong version: %+v", r)
	}
	s.mustFail("already sent with a different value", "put", "k", "1", "bb")
	if r := s.run("put", "k", "0", "cc"); r.code != 0 {
		t.Fatalf("put at version 0: %+v", r)
	}
	s.mustFail("keystream", "put", "k", "1", "bb")
	// Sending the value sent before is allowed, and it is what gets stored.
	if r := s.run("put", "k", "1", "aa"); r.code != 0 {
		t.Fatalf("put of the value sent before: %+v", r)
	}
	if r := s.run("get", "k"); r.code != 0 || r.stdout != "key: k, version: 1 value: aa\n" {
		t.Fatalf("get: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(s.datadir, clientkey.SentValuesFile)); err != nil {
		t.Fatalf("no record next to the client key: %v", err)
	}
}
