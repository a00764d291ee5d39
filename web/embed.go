// Package web holds the analytics dashboard: a React app built by Vite into
// dist/, which is committed so that a plain `go build` embeds a working
// dashboard without Node.js. Rebuild it with `npm run build` in web/;
// `npm run check-dist` (CI) fails when dist/ is stale.
package web

import "embed"

// Dist is the built dashboard: dist/index.html (served at /admin/analytics
// and /login) and dist/assets/* plus dist/favicon.svg (served under /static/).
//
//go:embed all:dist
var Dist embed.FS
