package wire

// ExtensionOnlyRequestMAC authenticates a SetExtensionOnly request with its nonce.
func ExtensionOnlyRequestMAC(secret, nonce []byte) []byte {
	return NewExtMAC(secret, DomainExtensionOnlyRequest).Bytes(nonce).Sum()
}

// ExtensionOnlyReplyMAC confirms a SetExtensionOnly, bound to its request (and so
// to the request's nonce).
func ExtensionOnlyReplyMAC(secret, requestMAC []byte) []byte {
	return NewExtMAC(secret, DomainExtensionOnlyReply).Bytes(requestMAC).Sum()
}
