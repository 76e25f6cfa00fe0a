package postgres

// prefixEnd returns the smallest byte string greater than every string that starts
// with prefix, so that "starts with prefix" is the range [prefix, end). Trailing
// 0xff bytes cannot be incremented and are dropped first; a prefix of only 0xff
// bytes (or the empty prefix) has no such bound, and bounded is false.
func prefixEnd(prefix []byte) (end []byte, bounded bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			end = append([]byte{}, prefix[:i+1]...)
			end[i]++
			return end, true
		}
	}
	return nil, false
}
