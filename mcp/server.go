// Package mcpserver is the MCP front door: the seed's MCP server "analytics"
// (github.com/modelcontextprotocol/go-sdk), over stdio and Streamable HTTP.
//
// Which tools a client sees depends on its credential: an admin sees the
// five analytics tools, an ingest key sees log_api_call only (the seed keeps
// it internal: no admin is ever offered it). Every tools/call runs through
// the same guard as REST — authentication, permission, the shared 30/min
// limit, validation, audit with door "mcp" — and a denial is a tool result
// with isError set and the guard's reason as text. When an MCP session ends
// (DELETE /mcp, an idle timeout, stdio EOF, the client closing) the guard's
// Stop hook runs for it.
package mcpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Name is the MCP server's name, as the seed's create_sdk_mcp_server names it.
const Name = "analytics"

// DefaultVersion is reported as the server version when Config.Version is empty.
const DefaultVersion = "1.0.0"

// DefaultSessionTimeout closes an idle Streamable HTTP session (and runs its
// Stop hook) when a client never sends DELETE.
const DefaultSessionTimeout = 30 * time.Minute

// Config is what the MCP server needs; all of it is passed in explicitly.
type Config struct {
	Guard    *guard.Guard
	Tools    *analytics.Tools
	Ingester *analytics.Ingester // log_api_call: decode (Ingester.Decoder), price, store
	Log      *slog.Logger
	Version  string
	Now      func() time.Time // default timestamp of log_api_call
	// SessionTimeout closes idle HTTP sessions; 0 means DefaultSessionTimeout,
	// a negative value never closes them.
	SessionTimeout time.Duration
	// Audit is read by get_audit_log, offered to owners (VIEW_AUDIT) only;
	// nil offers it to nobody.
	Audit analytics.AuditStore
}

// Server holds the two MCP servers (one per credential kind) and the live
// sessions, so that each session's Stop runs exactly once when it ends.
type Server struct {
	cfg    Config
	admin  *mcp.Server
	owner  *mcp.Server // the admin tools and get_audit_log (audittool.go)
	ingest *mcp.Server

	mu       sync.Mutex
	sessions map[*mcp.ServerSession]*session
}

// session is one live MCP session as the guard knows it.
type session struct {
	id   string               // the guard's session id: "mcp-" + the MCP session id
	p    *analytics.Principal // who opened it
	done chan struct{}        // closed once Stop has run
}

// New builds the MCP servers.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	s := &Server{cfg: cfg, sessions: map[*mcp.ServerSession]*session{}}
	s.admin = s.newServer(adminInstructions)
	s.addAdminTools(s.admin)
	if cfg.Audit != nil {
		s.owner = s.newServer(adminInstructions + ownerInstructions)
		s.addAdminTools(s.owner)
		s.addOwnerTools(s.owner)
	}
	s.ingest = s.newServer(ingestInstructions)
	s.addIngestTools(s.ingest)
	return s
}

const adminInstructions = `CodeStory Analytics: what the CodeStory platform costs and earns.
Tools take dates as YYYY-MM-DD in the reporting time zone; a range includes both days and spans at most 366 days (end_date - start_date <= 365). Without dates a tool covers the last 30 days.
Money: *_cents fields are US cents, cost/revenue/*_dollars fields are US dollars, both exact decimals.
Every call is checked (your role's permissions, 30 analytics calls per minute per admin across MCP, REST and Ask) and audited.`

const ingestInstructions = `CodeStory Analytics ingest: log_api_call records one paid API call (Anthropic, ElevenLabs or S3) as an api_call event. The id is an idempotency key: retrying the same id never counts twice.`

func (s *Server) newServer(instructions string) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "CodeStory Analytics", Version: s.cfg.Version},
		&mcp.ServerOptions{Instructions: instructions, Logger: s.cfg.Log, Capabilities: &mcp.ServerCapabilities{}})
	// One receiving middleware sees every message of every session: it
	// notes the session and who opened it, so Stop can run when it ends.
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				s.track(ss, principalFromExtra(req.GetExtra()))
			}
			return next(ctx, method, req)
		}
	})
	return srv
}

// For returns the MCP server for a credential: the admin tools for an
// admin, log_api_call for an ingest key, nil for nobody.
func (s *Server) For(p *analytics.Principal) *mcp.Server {
	switch {
	case p.IsIngest():
		return s.ingest
	case p != nil && p.Admin != nil && s.owner != nil && p.Can(analytics.PermViewAudit):
		return s.owner
	case p != nil && p.Admin != nil:
		return s.admin
	}
	return nil
}

// Connect serves one session on t (stdio, in-memory) as principal p.
func (s *Server) Connect(ctx context.Context, p *analytics.Principal, t mcp.Transport) (*mcp.ServerSession, error) {
	srv := s.For(p)
	if srv == nil {
		return nil, analytics.Errorf(analytics.KindUnauthenticated, "MCP needs an admin token or an ingest key")
	}
	ss, err := srv.Connect(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	s.track(ss, p)
	return ss, nil
}

// Run serves one session on t as p until the client closes it or ctx ends,
// then waits for the session's Stop hook.
func (s *Server) Run(ctx context.Context, p *analytics.Principal, t mcp.Transport) error {
	ss, err := s.Connect(ctx, p, t)
	if err != nil {
		return err
	}
	waited := make(chan error, 1)
	go func() { waited <- ss.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		ss.Close()
		<-waited
		err = nil
	}
	<-s.ended(ss)
	if err != nil && !errors.Is(err, mcp.ErrConnectionClosed) && !isEOF(err) {
		return err
	}
	return nil
}

// track notes a session the first time it is seen and arranges for its
// Stop hook to run once it ends. A session first seen without a principal
// (a message that raced Connect) gets it when Connect tracks it.
func (s *Server) track(ss *mcp.ServerSession, p *analytics.Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sessions[ss]; ok {
		if st.p == nil {
			st.p = p
		}
		return
	}
	id := ss.ID()
	if id == "" {
		id = "stdio-" + auth.NewSecret("")[:16]
	}
	st := &session{id: "mcp-" + id, p: p, done: make(chan struct{})}
	s.sessions[ss] = st
	go func() {
		_ = ss.Wait()
		s.stop(ss, st)
	}()
}

// stop runs the guard's Stop hook for an ended session.
func (s *Server) stop(ss *mcp.ServerSession, st *session) {
	s.mu.Lock()
	p := st.p
	delete(s.sessions, ss)
	s.mu.Unlock()
	if err := s.cfg.Guard.End(context.Background(), st.id, analytics.DoorMCP, p); err != nil {
		s.cfg.Log.Warn("MCP session Stop hook failed", "session", st.id, "err", err)
	}
	s.cfg.Log.Debug("MCP session ended", "session", st.id, "principal", p.Email())
	close(st.done)
}

// ended returns a channel closed once ss's Stop hook has run.
func (s *Server) ended(ss *mcp.ServerSession) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sessions[ss]; ok {
		return st.done
	}
	c := make(chan struct{})
	close(c)
	return c
}

// sessionOf returns the guard's view of a live session.
func (s *Server) sessionOf(ss *mcp.ServerSession) (id string, p *analytics.Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sessions[ss]; ok {
		return st.id, st.p
	}
	return "", nil
}

// Close ends every live session (each runs its Stop hook) and waits for
// their Stop hooks. A server shutting down calls it, so that open SSE
// streams do not hold the shutdown up.
func (s *Server) Close() error {
	s.mu.Lock()
	live := make(map[*mcp.ServerSession]*session, len(s.sessions))
	for ss, st := range s.sessions {
		live[ss] = st
	}
	s.mu.Unlock()
	for ss, st := range live {
		ss.Close()
		<-st.done
	}
	return nil
}

// SessionCount is the number of live sessions (for tests and metrics).
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// call builds the guard call of a tools/call request. Over HTTP the
// principal is the one this very request authenticated as; over stdio it is
// the one the session was opened with.
func (s *Server) call(req *mcp.CallToolRequest, tool string, input any) guard.Call {
	id, p := s.sessionOf(req.Session)
	if rp := principalFromExtra(req.Extra); rp != nil {
		p = rp
	}
	c := guard.Call{Tool: tool, Input: input, Door: analytics.DoorMCP, Principal: p, SessionID: id}
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		if ip, ok := req.Extra.TokenInfo.Extra[ipKey].(string); ok {
			c.IP = ip
		}
	}
	return c
}

// toolError turns a denial or a tool failure into the error a tool handler
// returns, which the SDK sends as a result with isError set: the guard's
// reason (the seed's text) or the tool's safe message; internal detail goes
// to the log only.
func (s *Server) toolError(tool string, err error) error {
	var de *guard.DeniedError
	if errors.As(err, &de) {
		return errors.New(de.Err.Message)
	}
	if analytics.ErrorKind(err) == analytics.KindInternal {
		s.cfg.Log.Error("MCP tool failed", "tool", tool, "err", err)
	}
	return errors.New(analytics.ErrorMessage(err))
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) }
