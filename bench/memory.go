package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is the server binary running `serve` in a process of its own, so
// that its peak resident memory (VmHWM) is the server's alone.
type child struct {
	bin, db, addr string
	args          []string // more flags of serve
	cmd           *exec.Cmd
	waited        chan error // receives the process's exit
	stderr        bytes.Buffer
}

// cli runs another command of the binary against the child's database.
func (c *child) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--db", c.db)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", c.bin, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// analystToken creates an analyst named email and returns an API token of
// theirs.
func (c *child) analystToken(ctx context.Context, email string) (string, error) {
	if _, err := c.cli(ctx, "bench-analyst-password\n", "admin", "create", "--email", email, "--role", "analyst", "--password-stdin"); err != nil {
		return "", err
	}
	return c.cli(ctx, "", "token", "create", "--email", email, "--name", "bench")
}

func (c *child) start(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c.addr = ln.Addr().String()
	ln.Close()
	c.cmd = exec.Command(c.bin, append([]string{"serve", "--addr", c.addr, "--db", c.db, "--log-level", "error"}, c.args...)...)
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, &c.stderr
	if err := c.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			c.cmd = nil
			return fmt.Errorf("serve exited: %v: %s", err, strings.TrimSpace(c.stderr.String()))
		case <-ctx.Done():
			c.stopWith(exited)
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if res, err := http.Get(c.url() + "/healthz"); err == nil {
			res.Body.Close()
			c.waited = exited
			return nil
		}
	}
	c.stopWith(exited)
	return fmt.Errorf("serve did not answer /healthz in 2 minutes")
}

func (c *child) url() string { return "http://" + c.addr }

// stop ends the child (SIGTERM, as an operator would) and waits for it.
func (c *child) stop() { c.stopWith(c.waited) }

func (c *child) stopWith(exited chan error) {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		<-exited
	}
	c.cmd = nil
}

// memKiB reads a field such as VmHWM (the peak resident set) or VmRSS from
// /proc/PID/status, in KiB.
func (c *child) memKiB(field string) (int64, error) {
	if c.cmd == nil {
		return 0, fmt.Errorf("no process")
	}
	return procStatusKiB(c.cmd.Process.Pid, field)
}

func procStatusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// peakDuringIngest starts the server on db (an empty database), posts
// bodies with clients concurrent clients, and returns the server's peak
// RSS before and after, in KiB.
func peakDuringIngest(ctx context.Context, bin, db string, bodies [][]byte, clients int) (idle, peak int64, rate float64, err error) {
	c := &child{bin: bin, db: db}
	if _, err := c.cli(ctx, "", "migrate"); err != nil { // only serve, migrate and demo create a database
		return 0, 0, 0, err
	}
	key, err := c.cli(ctx, "", "ingest-key", "create", "--name", "bench")
	if err != nil {
		return 0, 0, 0, err
	}
	if err := c.start(ctx); err != nil {
		return 0, 0, 0, err
	}
	defer c.stop()
	if idle, err = c.memKiB("VmHWM"); err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := postBatches(ctx, c.url(), key, bodies, clients); err != nil {
		return 0, 0, 0, err
	}
	el := time.Since(start)
	peak, err = c.memKiB("VmHWM")
	events := 0
	for _, b := range bodies {
		events += bytes.Count(b, []byte{'\n'})
	}
	return idle, peak, float64(events) / el.Seconds(), err
}

// peakDuringExport starts a fresh server on db (the scale data set) and
// downloads a CSV export of table over [start, end] as an analyst would; it returns
// the server's peak RSS before and after, in KiB, and the bytes received.
func peakDuringExport(ctx context.Context, bin, db, table, start, end string) (idle, peak, size int64, err error) {
	c := &child{bin: bin, db: db}
	token, err := c.analystToken(ctx, fmt.Sprintf("bench-export-%d@codestory.local", time.Now().UnixNano()))
	if err != nil {
		return 0, 0, 0, err
	}
	if err := c.start(ctx); err != nil {
		return 0, 0, 0, err
	}
	defer c.stop()
	if idle, err = c.memKiB("VmHWM"); err != nil {
		return 0, 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.url()+"/admin/analytics/export?format=csv&table="+table+"&start_date="+start+"&end_date="+end, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer res.Body.Close()
	size, err = io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, 0, 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("export: status %d", res.StatusCode)
	}
	peak, err = c.memKiB("VmHWM")
	return idle, peak, size, err
}
