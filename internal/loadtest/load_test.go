package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/lssquorum/lss/proto/lsspb"
	"github.com/lssquorum/lss/proto/wire"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// server is a running lssd process.
type server struct {
	cmd  *exec.Cmd
	addr string
	id   []byte
}

func start(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	args = append([]string{"--port", "0", "--log-format", "json", "--log-level", "warn", "--datadir", t.TempDir()}, args...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Listening is logged at info level, which warn hides: find the port instead.
	lines := bufio.NewScanner(out)
	go func() {
		for lines.Scan() {
			if os.Getenv("LSSD_LOADTEST_LOGS") != "" {
				t.Log(lines.Text())
			}
		}
	}()
	s := &server{cmd: cmd}
	deadline := time.Now().Add(20 * time.Second)
	for s.addr == "" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		s.addr = listenAddr(cmd.Process.Pid)
	}
	if s.addr == "" {
		t.Fatal("lssd did not listen within 20s")
	}
	conn := dialT(t, s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := lsspb.NewLightningStorageClient(conn).Info(ctx, &lsspb.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s.id = info.ServerId
	return s
}

// listenAddr finds the TCP port pid listens on from /proc.
func listenAddr(pid int) string {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, _ := os.ReadFile("/proc/net/tcp")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[3] == "0A" && inodes[f[9]] { // 0A: LISTEN
			port, _ := strconv.ParseUint(f[1][strings.Index(f[1], ":")+1:], 16, 16)
			return fmt.Sprintf("127.0.0.1:%d", port)
		}
	}
	return ""
}

// rss returns the process's current and peak resident memory, in MiB.
func (s *server) rss() (cur, peak float64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return cur, peak
}

// resetPeak clears the process's peak RSS (VmHWM), so each attack's peak is its
// own.
func (s *server) resetPeak() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

func dialT(t *testing.T, addr string) *grpc.ClientConn {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type client struct {
	rpc    lsspb.LightningStorageClient
	auth   *lsspb.Auth
	secret []byte
}

func newClient(t *testing.T, conn *grpc.ClientConn, serverID []byte) *client {
	priv, _ := secp256k1.GeneratePrivateKey()
	pub, err := wire.ParsePublicKey(serverID)
	if err != nil {
		t.Fatal(err)
	}
	secret := wire.SharedSecret(priv, pub)
	token := wire.Token(secret)
	return &client{rpc: lsspb.NewLightningStorageClient(conn), auth: &lsspb.Auth{ClientId: wire.PublicID(priv), Token: token[:]}, secret: secret[:]}
}

func (c *client) put(ctx context.Context, kvs []*lsspb.KeyValue) error {
	r, err := c.rpc.Put(ctx, &lsspb.PutRequest{Auth: c.auth, Kvs: kvs, Hmac: wire.PutRequestHMAC(c.secret, kvs)})
	if err == nil && !r.Success {
		err = fmt.Errorf("conflict")
	}
	return err
}

// readPaged reads the whole namespace with paged BoundGets, checking each
// page's MAC, and fails unless it holds want keys.
func (c *client) readPaged(ctx context.Context, want int) error {
	var after *string
	n := 0
	for {
		nonce := value(16)
		r, err := c.rpc.BoundGet(ctx, &lsspb.GetRequest{Auth: c.auth, Nonce: nonce, PageLimit: 1000, StartAfter: after})
		if err != nil {
			return err
		}
		if !wire.Equal(r.Hmac, wire.BoundGetPageReplyMAC(c.secret, "", nonce, after, 1000, r.Kvs, r.More, r.Generation)) {
			return fmt.Errorf("page MAC does not verify")
		}
		n += len(r.Kvs)
		if !r.More {
			break
		}
		after = &r.Kvs[len(r.Kvs)-1].Key
	}
	if n != want {
		return fmt.Errorf("read %d keys, want %d", n, want)
	}
	return nil
}

// fillRecords leaves n aborted transaction records (prepared, then aborted),
// written by 16 workers.
func (c *client) fillRecords(t *testing.T, ctx context.Context, n int) {
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				txid := []byte(fmt.Sprintf("loadtest-txid-%08d", i))
				kvs := []*lsspb.KeyValue{{Key: fmt.Sprintf("tx/%08d", i), Value: []byte("v")}}
				_, err := c.rpc.Prepare(ctx, &lsspb.PrepareRequest{Auth: c.auth, Txid: txid, Kvs: kvs,
					Hmac: wire.PrepareRequestMAC(c.secret, txid, kvs, nil, 0, nil)})
				if err == nil {
					_, err = c.rpc.Abort(ctx, &lsspb.TxRequest{Auth: c.auth, Txid: txid,
						Hmac: wire.TxRequestMAC(c.secret, wire.AbortDomains[0], txid, nil)})
				}
				if err != nil && failed.Add(1) == 1 {
					t.Errorf("filling records: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// readStatus reads every transaction record, in one Status or in pages, and
// fails unless there are want.
func (c *client) readStatus(ctx context.Context, paged bool, want int) error {
	var limit int32
	if paged {
		limit = 1000
	}
	var after []byte
	n := 0
	for {
		r, err := c.rpc.Status(ctx, &lsspb.StatusRequest{Auth: c.auth, Nonce: []byte{1}, StartAfter: after, PageLimit: limit})
		if err != nil {
			return err
		}
		n += len(r.Transactions)
		if !r.More {
			break
		}
		after = r.Transactions[len(r.Transactions)-1].Txid
	}
	if n != want {
		return fmt.Errorf("read %d records, want %d", n, want)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func value(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// report runs attack and logs the server's RSS before, at peak and after, with
// how the attack's calls ended.
func report(t *testing.T, s *server, name string, attack func() map[string]int) {
	if !selected(name) {
		return
	}
	time.Sleep(500 * time.Millisecond)
	before, _ := s.rss()
	s.resetPeak()
	start := time.Now()
	outcomes := attack()
	took := time.Since(start)
	_, peak := s.rss()
	time.Sleep(2 * time.Second)
	after, _ := s.rss()
	t.Logf("%-44s RSS before %6.0f MiB  peak %6.0f MiB  after %6.0f MiB  (%.1fs) %v", name, before, peak, after, took.Seconds(), outcomes)
	fmt.Printf("LOAD %s\t%.0f\t%.0f\t%.0f\t%.1f\t%v\n", name, before, peak, after, took.Seconds(), outcomes)
}

// selected reports whether the attack named name runs: all of them, or those
// whose name contains LSSD_LOADTEST_ONLY.
func selected(name string) bool {
	only := os.Getenv("LSSD_LOADTEST_ONLY")
	return only == "" || strings.Contains(name, only)
}

// tally counts outcomes by gRPC code.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int{}
	}
	t.m[status.Code(err).String()]++
}

func TestLoad(t *testing.T) {
	bin := os.Getenv("LSSD_LOADTEST")
	if bin == "" {
		t.Skip("set LSSD_LOADTEST to an lssd binary to run the load test")
	}
	// Each attack gets a fresh server, so that one attack's heap (which Go keeps
	// for a while) does not hide the next one's.
	fresh := func() (*server, *grpc.ClientConn) {
		s := start(t, bin, strings.Fields(os.Getenv("LSSD_LOADTEST_ARGS"))...)
		return s, dialT(t, s.addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	s, conn := fresh()

	report(t, s, "64 clients x 16 puts of 8 x 64 KiB values", func() map[string]int {
		var tl tally
		var wg sync.WaitGroup
		for range 64 {
			c := newClient(t, conn, s.id)
			wg.Go(func() {
				for round := range 16 {
					var kvs []*lsspb.KeyValue
					for k := range 8 {
						kvs = append(kvs, &lsspb.KeyValue{Key: fmt.Sprintf("r%02d/k%d", round, k), Version: 0, Value: value(64 << 10)})
					}
					tl.add(c.put(ctx, kvs))
				}
			})
		}
		wg.Wait()
		return tl.m
	})

	s, conn = fresh()
	big := newClient(t, conn, s.id)
	for round := range 60 * btoi(selected("60 MiB")) {
		kvs := []*lsspb.KeyValue{{Key: fmt.Sprintf("big/%03d", round), Version: 0, Value: value(1000 << 10)}}
		if err := big.put(ctx, kvs); err != nil {
			t.Fatalf("storing 60 MiB: %v", err)
		}
	}
	report(t, s, "8 concurrent Get(\"\") of a 60 MiB namespace", func() map[string]int {
		var tl tally
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := big.rpc.Get(ctx, &lsspb.GetRequest{Auth: big.auth, Nonce: []byte{1}})
				tl.add(err)
			})
		}
		wg.Wait()
		return tl.m
	})

	// The same namespace read whole in pages (BoundGet with page_limit), as the
	// provider client does: every read succeeds, and each holds one page.
	s, conn = fresh()
	big = newClient(t, conn, s.id)
	for round := range 60 * btoi(selected("60 MiB")) {
		kvs := []*lsspb.KeyValue{{Key: fmt.Sprintf("big/%03d", round), Version: 0, Value: value(1000 << 10)}}
		if err := big.put(ctx, kvs); err != nil {
			t.Fatalf("storing 60 MiB: %v", err)
		}
	}
	report(t, s, "8 concurrent paged reads of 60 MiB, whole", func() map[string]int {
		var tl tally
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { tl.add(big.readPaged(ctx, 60)) })
		}
		wg.Wait()
		return tl.m
	})

	// A busy signer's history: 20,000 decided transaction records, read by 16
	// concurrent Status calls, unpaged (as before paging) and paged.
	for _, paged := range []bool{false, true} {
		name := "16 concurrent Status of 20,000 records"
		if paged {
			name = "16 concurrent paged Status of 20,000 records"
		}
		s, conn = fresh()
		signer := newClient(t, conn, s.id)
		if selected(name) {
			signer.fillRecords(t, ctx, 20000)
		}
		report(t, s, name, func() map[string]int {
			var tl tally
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() { tl.add(signer.readStatus(ctx, paged, 20000)) })
			}
			wg.Wait()
			return tl.m
		})
	}

	s, _ = fresh()
	report(t, s, "32 concurrent unauthenticated 15 MiB Puts", func() map[string]int {
		var tl tally
		var wg sync.WaitGroup
		kvs := []*lsspb.KeyValue{{Key: "k", Value: value(15 << 20)}}
		for i := range 32 {
			c := lsspb.NewLightningStorageClient(dialT(t, s.addr))
			_ = i
			wg.Go(func() {
				_, err := c.Put(ctx, &lsspb.PutRequest{Auth: &lsspb.Auth{ClientId: []byte("x")}, Kvs: kvs})
				tl.add(err)
			})
		}
		wg.Wait()
		return tl.m
	})

	s, conn = fresh()
	victim := newClient(t, conn, s.id)
	report(t, s, "5,000 made-up client_ids, then a known client", func() map[string]int {
		var tl tally
		if _, err := victim.rpc.Get(ctx, &lsspb.GetRequest{Auth: victim.auth}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 8 {
			_ = w
			wg.Go(func() {
				for range 5000 / 8 {
					priv, _ := secp256k1.GeneratePrivateKey()
					_, err := victim.rpc.Get(ctx, &lsspb.GetRequest{Auth: &lsspb.Auth{ClientId: wire.PublicID(priv), Token: make([]byte, 32)}})
					tl.add(err)
				}
			})
		}
		wg.Wait()
		_, err := victim.rpc.Get(ctx, &lsspb.GetRequest{Auth: victim.auth})
		if err != nil {
			t.Errorf("known client after the flood: %v", err)
		}
		return tl.m
	})

	s, _ = fresh()
	report(t, s, "3,000 idle TCP connections (open after 20s)", func() map[string]int {
		var conns []net.Conn
		for range 3000 {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		time.Sleep(20 * time.Second)
		open := 0
		for _, c := range conns {
			if stillOpen(c) {
				open++
			}
			c.Close()
		}
		return map[string]int{"dialled": len(conns), "still open": open}
	})
}

// stillOpen reads whatever the server sent and reports whether the connection is
// still open (a read times out rather than ending).
func stillOpen(c net.Conn) bool {
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			ne, ok := err.(net.Error)
			return ok && ne.Timeout()
		}
	}
}
