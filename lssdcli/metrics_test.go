package lssdcli

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMetricsAddrFlag(t *testing.T) {
	p := startBinary(t, "--datadir", t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	var addr string
	select {
	case line := <-p.logs:
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "metrics listening" {
			t.Fatalf("first log line %q; want the metrics address", line)
		}
		addr = rec.Addr
	case <-time.After(10 * time.Second):
		t.Fatal("no log line")
	}
	putAndGet(t, p)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="lss.LightningStorage",grpc_type="unary"} 1`) {
		t.Errorf("metrics page does not count the Put:\n%s", body)
	}
	if logs, err := p.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v; logs:\n%s", err, logs)
	}
}
