package quorumcli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/lssquorum/lss/clientkey"
	"github.com/lssquorum/lss/internal/qconfig"
	"github.com/lssquorum/lss/proto/wire"
	"github.com/lssquorum/lss/quorum"
)

// session is a quorum client opened from the configuration, with the watermark
// of earlier runs loaded into it.
type session struct {
	cfg      *qconfig.Config
	key      *secp256k1.PrivateKey
	clientID []byte
	client   *quorum.Client
}

// loadConfig loads the configuration; every problem with it is a configuration
// error (exit status 2, no usage line).
func (g *globals) loadConfig() (*qconfig.Config, error) {
	cfg, err := qconfig.Load(g.configPath)
	if err != nil {
		return nil, configError(err)
	}
	return cfg, nil
}

// sessionMode says how a command opens the quorum client.
type sessionMode struct {
	// autoRepair makes reads repair the providers found behind.
	autoRepair bool
	// settle opens the client as a signer does (quorum.Open): it first settles
	// the atomic puts an earlier process left prepared, leaving alone those
	// young enough that a live coordinator may still be deciding them. The
	// commands that write or read the client's state set it; the ones that
	// only look (audit without --repair, recover --dry-run) and recover itself,
	// which runs its own recovery with its own options, do not.
	settle bool
}

// openSession loads the configuration, the client key and the watermark, and
// opens the quorum client as mode says.
func (g *globals) openSession(ctx context.Context, mode sessionMode) (*session, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	if err := cfg.RequirePinned(); err != nil {
		return nil, configError(err)
	}
	key, err := clientkey.Load(cfg.ClientKeyPath())
	if errors.Is(err, clientkey.ErrNotInitialized) {
		return nil, configf("client key %s does not exist: run `lss-quorum init` first", cfg.ClientKeyPath())
	}
	if err != nil {
		return nil, configError(err)
	}
	clientID := wire.PublicID(key)
	qcfg, err := quorumConfig(cfg, key, g.logger(), mode.autoRepair)
	if err != nil {
		return nil, configError(err)
	}
	// Saved by every put and get before it returns, and at Close.
	qcfg.Watermarks = quorum.OpenWatermarkFile(cfg.WatermarkPath(), clientID)
	var qc *quorum.Client
	if mode.settle {
		// The report is logged by the library (--verbose shows it); what it
		// could not settle yet is left to the client's settler and to recover.
		qc, _, err = quorum.Open(ctx, qcfg)
	} else {
		qc, err = quorum.New(ctx, qcfg)
	}
	if errors.Is(err, quorum.ErrConfig) {
		return nil, configError(err)
	}
	if err != nil {
		return nil, err
	}
	return &session{cfg: cfg, key: key, clientID: clientID, client: qc}, nil
}

// quorumConfig translates the file's settings into the quorum client's.
func quorumConfig(cfg *qconfig.Config, key *secp256k1.PrivateKey, logger *slog.Logger, autoRepair bool) (quorum.Config, error) {
	qc := quorum.Config{
		ClientKey:  key,
		W:          cfg.W,
		R:          cfg.R,
		Timeout:    cfg.CallTimeout(),
		Grace:      0, // the client's default unless the file sets one
		Mode:       cfg.QuorumMode(),
		AutoRepair: autoRepair,
		Logger:     logger,

		DisableEncryption:   cfg.DisableEncryption,
		ReadLegacyPlaintext: cfg.ReadLegacyPlaintext,
	}
	if cfg.Grace > 0 {
		qc.Grace = time.Duration(cfg.Grace)
	}
	for _, p := range cfg.Providers {
		tc, err := cfg.TLSConfig(p)
		if err != nil {
			return quorum.Config{}, err
		}
		qc.Providers = append(qc.Providers, quorum.ProviderConfig{
			Name: p.Name, Addr: p.Addr, ServerID: p.ServerIDBytes(), TLS: tc, Stock: p.Stock(),
		})
	}
	return qc, nil
}

// close closes the client, which waits for the writes and repairs it left
// running and saves what they confirmed to the watermark file.
func (s *session) close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("closing the quorum client: %w", err)
	}
	return nil
}

// finish closes s and combines its error with the command's: the command's error
// decides the exit status, a failure to save the watermark is reported too.
func (s *session) finish(err error) error {
	if cerr := s.close(); cerr != nil {
		if err == nil {
			return cerr
		}
		return fmt.Errorf("%w (also: %v)", err, cerr)
	}
	return err
}
