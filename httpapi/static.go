package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// securityHeaders are sent with the dashboard: no inline scripts, no
// framing, no sniffing, no referrer leaking query strings.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if s.Assets == nil {
		http.Error(w, "this build has no dashboard", http.StatusNotFound)
		return
	}
	b, err := fs.ReadFile(s.Assets, "index.html")
	if err != nil {
		http.Error(w, "dashboard not built: run `npm run build` in web/", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if s.Assets == nil {
		http.NotFound(w, r)
		return
	}
	// Files only: a directory is not listed.
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	if st, err := fs.Stat(s.Assets, name); err != nil || st.IsDir() || strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/static/assets/") {
		// Vite puts a content hash in every asset name.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	http.StripPrefix("/static/", http.FileServerFS(s.Assets)).ServeHTTP(w, r)
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin/analytics", http.StatusFound)
}
