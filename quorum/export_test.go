package quorum

// The test harness (harness_test.go), for the quorum_test package.
var (
	// HarnessTimeout is the per-provider deadline of every quorum test.
	HarnessTimeout = harnessTimeout
	// HarnessCtx bounds a whole test.
	HarnessCtx = harnessCtx
	// HarnessNet starts real lssd servers on loopback for one test.
	HarnessNet = harnessNet
	// HarnessNetConfig is HarnessNet with the network's configuration.
	HarnessNetConfig = harnessNetConfig
	// HarnessKey is a fresh client key.
	HarnessKey = harnessKey
	// HarnessProviders is a network's configuration, every server_id pinned.
	HarnessProviders = harnessProviders
	// HarnessConfig is a plain-mode configuration with the test timeouts.
	HarnessConfig = harnessConfig
	// HarnessClient is a client with HarnessConfig, closed with the test.
	HarnessClient = harnessClient
	// FaultSeeds is the seed list of a randomized fault test: $LSS_FAULT_SEEDS
	// or the test's defaults.
	FaultSeeds = faultSeeds
)
