// Package testnet runs a local network of N real lssd servers in-process on
// 127.0.0.1, for tests and demos, and injects faults into it.
//
// Each provider is a real lssd daemon with its own durable bolt data directory and
// its own server key, reached through a small TCP proxy. The proxy's address is the
// provider's stable address: it does not change when the server is restarted on
// another port, and it is where network faults are injected (latency, cut
// connections, a provider that never answers). Storage faults act on the data
// directory while the server is stopped: a snapshot and a later rollback to it, and
// tampering with a stored value without changing its version.
//
// Guarantees:
//   - Every listener binds 127.0.0.1 only.
//   - While a provider is stopped, crashed or cut, a connection to its address is
//     reset at once, so clients see Unavailable quickly instead of hanging.
//   - Restart keeps the data directory, hence the server key and server_id.
//   - Network.Close stops every server and proxy, waits for every goroutine the
//     package started, and removes the directories it created.
package testnet
