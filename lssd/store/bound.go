package store

// Bound limits a ranged read (Reader.ScanRange, Reader.RecordsRange). A zero
// field does not limit.
type Bound struct {
	// Items is the most entries the read returns.
	Items int
	// Bytes is the size (KV.Size, Record.Size) past which the read stops: it
	// returns the entry that passed it and reads no further.
	Bytes int
}

// Budget counts the entries of one ranged read against its Bound. Backends call
// Take after each entry they return.
type Budget struct {
	b     Bound
	n     int
	bytes int
}

// Budget starts counting a read bounded by b.
func (b Bound) Budget() *Budget { return &Budget{b: b} }

// Take counts one entry of size bytes and reports whether the read may go on to
// the next entry.
func (g *Budget) Take(size int) bool {
	g.n++
	g.bytes += size
	if g.b.Items > 0 && g.n >= g.b.Items {
		return false
	}
	return g.b.Bytes <= 0 || g.bytes <= g.b.Bytes
}

// Remaining is how many more entries the read may return (0 when Items does not
// limit), for backends that fetch entries in batches.
func (g *Budget) Remaining() int {
	if g.b.Items <= 0 {
		return 0
	}
	return g.b.Items - g.n
}

// entryOverhead approximates the protobuf framing of one key-value or record, so
// that many empty entries still count.
const entryOverhead = 16

// Size is kv's share of a reply: key, value, txid and proof, plus framing.
func (kv KV) Size() int {
	return len(kv.Key) + len(kv.Value) + len(kv.TxID) + len(kv.Proof) + entryOverhead
}

// Size is rec's share of a Status reply: txid, seal, participants and pending
// writes, plus framing.
func (rec Record) Size() int {
	n := len(rec.TxID) + len(rec.Seal) + entryOverhead
	for _, p := range rec.Quorum.Participants {
		n += len(p)
	}
	for _, kv := range rec.KVs {
		n += kv.Size()
	}
	return n
}

// After is the first key sorting after key: key followed by a zero byte. Range
// reads seek to it to start after key.
func After(key []byte) []byte { return append(append([]byte{}, key...), 0) }
