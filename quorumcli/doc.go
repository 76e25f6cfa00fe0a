// Package quorumcli is the lss-quorum command: the people who run or audit a
// multi-provider LSS deployment use it to start a local test network, pin the
// providers' server_ids, write and read through the quorum, and audit that every
// provider holds the same data. The main package only calls Main.
//
// Each command is a thin layer: flags and arguments are parsed by pure functions,
// the work is done by the quorum, provider, testnet and qconfig packages, and the
// results are printed by pure formatting functions.
//
// Guarantees: every command that talks to the quorum loads the client's watermark
// before it starts and saves it (merged, never lowered) when it ends, so a
// rollback of every provider between two runs is reported as a rollback instead of
// returning the old data. The exit status says what happened (see ExitOK and the
// other Exit constants).
package quorumcli
