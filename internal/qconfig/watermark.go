package qconfig

import (
	"errors"
	"fmt"
	"os"
)

// The watermark file itself (what it holds, how it is saved) is
// quorum.WatermarkFile; the configuration only says where it is
// (Config.WatermarkPath).

// ResetWatermark removes the watermark file and its lock file: used only by
// `lss-quorum testnet` when a brand-new network (new server_ids, empty data)
// replaces the old one, whose versions would otherwise all look like a
// rollback. An operator resets a watermark with `lss-quorum watermark reset`.
func ResetWatermark(path string) error {
	for _, p := range []string{path, path + ".lock"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("watermark %s: %w", p, err)
		}
	}
	return nil
}
