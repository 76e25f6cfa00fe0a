// Package durable writes whole files so that a crash or power loss never leaves a
// partly written file under the final name.
//
// Both writers put the data in a temporary file in the destination's directory, set
// its mode, fsync it, move it into place and fsync the directory, so that the new
// name itself survives a crash. They differ in how the file is moved into place:
//
//   - WriteNew hard-links it, which fails if the name already exists: an existing
//     file is never replaced, not even one another process creates at the same
//     moment. Use it for files that must be written at most once, such as keys.
//   - WriteReplace renames it over the name, which replaces atomically: after a
//     crash the name holds either the old content or the new one, never a mix.
//
// The temporary file is removed on success and on failure. The destination's
// directory must already exist: creating parents, and choosing their mode, is the
// caller's decision (a directory holding keys wants 0700, for instance).
package durable
