// Package static holds the stylesheet, scripts and images, embedded in the binary.
package static

import "embed"

// Files are served under /static/.
//
//go:embed *.css *.js *.svg
var Files embed.FS

// HTMX is the vendored htmx file (pinned to 2.x: 4.x changes behaviour).
const HTMX = "htmx-2.0.11.min.js"
