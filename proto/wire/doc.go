// Package wire holds the rules that a client and a server of the LSS protocol must
// compute identically: the ECDH shared secret, the auth token, the value HMAC and
// its optional encryption, the base protocol's shared HMAC, and the extension's
// length-prefixed, domain-separated MACs.
//
// Everything here is a pure function over bytes. The test vectors of the protocol
// description are reproduced in the tests.
package wire
