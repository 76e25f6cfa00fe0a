package quorumcli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	wf := quorum.OpenWatermarkFile(cfg.WatermarkPath(), clientID)
	if err := checkWatermark(ctx, wf); err != nil {
		return nil, err
	}
	qcfg.Watermarks = wf
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
// decides the exit status, a failure to save the watermark is reported too (once:
// when the command already says its watermark was not saved, the same failure
// at Close adds nothing).
func (s *session) finish(err error) error {
	if cerr := s.close(); cerr != nil {
		var saveErr *quorum.WatermarkSaveError
		switch {
		case err == nil:
			return cerr
		case errors.As(err, &saveErr) && errors.As(cerr, &saveErr):
			return err
		}
		return fmt.Errorf("%w (also: %v)", err, cerr)
	}
	return err
}

// checkWatermark reads the watermark file before the quorum client does, so
// that a file that is damaged, unreadable or of another client key is a
// configuration error (exit status 2, before anything is sent) that says the
// way out, not a failure of the operation.
func checkWatermark(ctx context.Context, f *quorum.WatermarkFile) error {
	if _, err := f.Load(ctx); err != nil {
		return watermarkError(f.Path(), err)
	}
	return nil
}

// watermarkError words a failure to load the watermark file at path for the
// command line.
func watermarkError(path string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // interrupted, or another process held the file's lock: not the file's fault
	}
	if damagedWatermark(path, err) {
		return configf("%w\nhint: if no backup of the file exists, `lss-quorum watermark reset --all` moves it aside and starts an empty watermark (the protection of every key starts again from what is read next)", err)
	}
	return configError(err)
}

// damagedWatermark reports whether loading the watermark at path failed
// although the file reads: its content is what is wrong (a file of another
// client key is not damaged, it is someone else's).
func damagedWatermark(path string, err error) bool {
	var other *quorum.WatermarkMismatchError
	if err == nil || errors.As(err, &other) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	_, rerr := os.ReadFile(path)
	return rerr == nil
}
