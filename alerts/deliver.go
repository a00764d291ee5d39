package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	analytics "github.com/codestory/analytics"
)

// Delivery limits.
const (
	AttemptTimeout = 10 * time.Second // per attempt
	RetryWindow    = 24 * time.Hour   // after this, a message is given up
	DefaultBackoff = 5 * time.Second  // the first retry's base delay
	maxBackoff     = time.Hour
	DefaultPoll    = time.Second
	claimBatch     = 16
)

// Backoff is exponential with full jitter between half and all of
// base × 2^(attempt−1), capped at an hour.
func Backoff(base time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < maxBackoff; i++ {
			d *= 2
		}
		d = min(d, maxBackoff)
		return d/2 + rand.N(d/2+1)
	}
}

// Deliverer is the outbox worker: it claims due messages (one replica per
// message, by a lease in the database) and posts them, retrying failures
// with backoff for up to RetryWindow with the same webhook-id.
type Deliverer struct {
	Store   analytics.BudgetStore
	Client  *http.Client
	Backoff func(attempt int) time.Duration
	Now     func() time.Time
	Log     *slog.Logger
	Poll    time.Duration
	// Lease is how long a claim holds; it outlasts one attempt.
	Lease time.Duration

	once sync.Once
	kick chan struct{}
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		d.kick = make(chan struct{}, 1)
		if d.Backoff == nil {
			d.Backoff = Backoff(DefaultBackoff)
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Poll <= 0 {
			d.Poll = DefaultPoll
		}
		if d.Lease <= 0 {
			d.Lease = AttemptTimeout + 20*time.Second
		}
		if d.Client == nil {
			d.Client = NewClient(false)
		}
	})
}

// Notify wakes the worker (new messages are in the outbox).
func (d *Deliverer) Notify() {
	d.init()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	d.init()
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Warn("webhook outbox", "err", err)
			}
			if n < claimBatch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// DeliverDue claims the due messages and attempts each once; it returns
// how many it claimed.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	d.init()
	msgs, err := d.Store.ClaimDeliveries(ctx, d.Now(), d.Lease, claimBatch)
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(msgs))
	for i := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.attempt(ctx, &msgs[i])
		}()
	}
	wg.Wait()
	return len(msgs), errors.Join(errs...)
}

func (d *Deliverer) attempt(ctx context.Context, m *analytics.Delivery) error {
	start := d.Now()
	code, err := d.post(ctx, m)
	at := analytics.Attempt{At: start.UTC(), StatusCode: code, DurationMS: d.Now().Sub(start).Milliseconds()}
	if err != nil {
		at.Error = err.Error()
	}
	if ctx.Err() != nil {
		return nil // shutting down: the lease runs out and another attempt follows
	}
	if err == nil {
		return d.Store.FinishAttempt(context.WithoutCancel(ctx), m.ID, at, analytics.DeliveryDelivered, nil)
	}
	next := d.Now().Add(d.Backoff(m.Attempts + 1))
	if next.Sub(m.CreatedAt) > RetryWindow {
		d.Log.Warn("webhook given up", "message_id", m.MessageID, "url", redact(m.URL), "attempts", m.Attempts+1, "err", err)
		return d.Store.FinishAttempt(context.WithoutCancel(ctx), m.ID, at, analytics.DeliveryFailed, nil)
	}
	d.Log.Info("webhook attempt failed", "message_id", m.MessageID, "url", redact(m.URL), "attempt", m.Attempts+1, "retry_at", next, "err", err)
	return d.Store.FinishAttempt(context.WithoutCancel(ctx), m.ID, at, analytics.DeliveryPending, &next)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Sign is the Standard Webhooks signature of body: "v1," + base64
// HMAC-SHA256 of "id.timestamp.body" under the secret's key.
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s.%d.", id, ts)
	h.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

func (d *Deliverer) post(ctx context.Context, m *analytics.Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "codestory-analytics-webhooks")
	if m.Format == analytics.WebhookStandard {
		ts := d.Now().Unix()
		sig, err := Sign(m.Secret, m.MessageID, ts, m.Body)
		if err != nil {
			return 0, err
		}
		req.Header.Set("webhook-id", m.MessageID)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", sig)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// ErrPrivateAddress is a webhook address the server refuses to call.
var ErrPrivateAddress = errors.New("loopback, private or link-local address refused (serve --allow-private-webhooks allows it)")

// NewClient is the webhook HTTP client. Unless allowPrivate, it refuses to
// connect to loopback, private and link-local addresses, checked on the
// address actually dialed (so a DNS answer that changes after the URL was
// accepted cannot reach them), uses no proxy and follows no redirects.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || analytics.PrivateAddress(ip) {
				return fmt.Errorf("%s: %w", host, ErrPrivateAddress)
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: AttemptTimeout},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// URLChecker refuses, when a budget is saved, a webhook URL whose host is or
// resolves to a loopback, private or link-local address (unless
// allowPrivate). A host that does not resolve now is accepted; every
// delivery checks the address again.
func URLChecker(allowPrivate bool) func(ctx context.Context, raw string) error {
	return func(ctx context.Context, raw string) error {
		if allowPrivate {
			return nil
		}
		u, err := url.Parse(raw)
		if err != nil {
			return analytics.Errorf(analytics.KindInvalid, "%q is not a URL", raw)
		}
		host := u.Hostname()
		var ips []net.IP
		if ip := net.ParseIP(host); ip != nil {
			ips = []net.IP{ip}
		} else if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			ips = []net.IP{net.IPv4(127, 0, 0, 1)}
		} else {
			lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			addrs, err := net.DefaultResolver.LookupIPAddr(lctx, host)
			if err != nil {
				return nil
			}
			for _, a := range addrs {
				ips = append(ips, a.IP)
			}
		}
		for _, ip := range ips {
			if analytics.PrivateAddress(ip) {
				return analytics.Errorf(analytics.KindInvalid, "%s resolves to %s, a loopback, private or link-local address; serve refuses it unless --allow-private-webhooks is given", host, ip)
			}
		}
		return nil
	}
}
