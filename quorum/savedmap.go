package quorum

import (
	"maps"
	"sync"
)

// savedMap is a per-key map that only rises and remembers which keys changed
// since it was last saved: the shape of both the client's watermark (markSet)
// and each provider's confirmed versions (watermark). The owner's raise methods
// hold mu and fill v and dirty.
type savedMap[V any] struct {
	mu    sync.Mutex
	v     map[string]V
	dirty map[string]struct{}
}

// snapshot copies the map. A Get checks against the copy taken when it starts,
// so a put acknowledged while the Get is in flight cannot make the Get look like
// a rollback.
func (m *savedMap[V]) snapshot() map[string]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.v)
}

// reset forgets keys (every key when keys is empty): the deliberate way out
// after a rollback nobody can repair.
func (m *savedMap[V]) reset(keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(keys) == 0 {
		m.v, m.dirty = nil, nil
		return
	}
	for _, k := range keys {
		delete(m.v, k)
		delete(m.dirty, k)
	}
}

// takeDirty returns the entries changed since the last call and forgets that
// they changed; putBack undoes it when saving them failed.
func (m *savedMap[V]) takeDirty() map[string]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.dirty) == 0 {
		return nil
	}
	out := make(map[string]V, len(m.dirty))
	for k := range m.dirty {
		out[k] = m.v[k]
	}
	clear(m.dirty)
	return out
}

// putBack marks keys dirty again after a failed save.
func (m *savedMap[V]) putBack(taken map[string]V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range taken {
		if _, ok := m.v[k]; ok {
			m.dirty[k] = struct{}{}
		}
	}
}
