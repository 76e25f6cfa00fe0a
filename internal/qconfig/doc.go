// Package qconfig reads, checks and writes the files of the lss-quorum command: the
// JSON configuration (providers with their pinned server_ids, quorum sizes, timeout,
// client key path) and the watermark file that carries the quorum client's
// highest-acknowledged versions from one run to the next.
//
// Guarantees: a configuration is never used unless every field has been checked, and
// each error names the field (and the provider, by name and index) that is wrong.
// Files are replaced atomically (write to a temporary file, fsync, rename, fsync the
// directory), so a crash leaves either the old or the new file, never a torn one. A
// saved watermark never lowers a version already on disk, so two runs racing to save
// cannot erase each other's rollback protection.
//
// The file format, with every field:
//
//	{
//	  "providers": [
//	    {
//	      "name": "alice",                 // unique, used in every message
//	      "addr": "127.0.0.1:55551",       // host:port, http://host:port or https://host:port; TLS with "tls" or https://
//	      "server_id": "02466d7f…",        // 33-byte compressed key, hex; set by `init`
//	      "capability": "extension",       // or "stock" (base protocol only); set by `init`
//	      "tls": {                         // optional; absent = plaintext
//	        "ca": "alice-ca.pem",          // CA that signed the server certificate
//	        "cert": "client.pem",          // client certificate for mutual TLS (with key)
//	        "key": "client-key.pem",
//	        "server_name": "alice.example" // name to verify, if not the addr's host
//	      }
//	    }
//	  ],
//	  "w": 2,                 // write quorum; 0 or absent = majority
//	  "r": 2,                 // read quorum;  0 or absent = majority
//	  "timeout": "10s",       // per-call deadline; absent = 5s (quorum.DefaultTimeout)
//	  "mode": "auto",         // puts: "auto" (the client's choice), "plain", "atomic"
//	  "grace": "50ms",        // extra wait for lagging providers; absent = 25ms (quorum.DefaultGrace)
//	  "client_key": "client-key",   // absent = client-key next to the config
//	  "watermark": "config.watermark.json", // absent = <config name>.watermark.json
//	  "disable_encryption": false,    // true writes plaintext values (debugging only)
//	  "read_legacy_plaintext": false, // true also reads values stored unencrypted
//	  "testnet_dir": "/tmp/lss-testnet-1"   // set by `testnet up` only
//	}
//
// Relative paths are relative to the directory of the configuration file; "~/"
// is the home directory. JSON has no
// comments: the ones above are documentation only.
package qconfig
