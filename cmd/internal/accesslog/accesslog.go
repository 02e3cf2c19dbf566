// Package accesslog generates realistic Apache combined-format access log
// lines, deterministically from a seed, for tests, the README's sample file
// and benchmarks that need large logs.
//
// A line looks like:
//
//	203.0.113.9 - - [12/Mar/2026:14:02:11 +0000] "GET /products/42?ref=home HTTP/1.1" 200 5123 "https://www.example.com/" "Mozilla/5.0 (X11; Linux x86_64) ..."
//
// Lines average about 200 bytes, so one million lines make about 200 MB.
package accesslog

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Generator produces access log lines. It is not safe for concurrent use.
type Generator struct {
	rng *rand.Rand
	now time.Time
	buf []byte
}

// New returns a generator whose output depends only on seed. The first line
// is stamped start; each following line is up to two seconds later.
func New(seed uint64, start time.Time) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: start.UTC()}
}

var (
	methods = []string{"GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE"}
	paths   = []string{
		"/", "/index.html", "/about", "/contact", "/blog", "/blog/2026/03/release-notes",
		"/products", "/products/%d", "/products/%d/reviews", "/cart", "/checkout",
		"/api/v1/orders", "/api/v1/orders/%d", "/api/v1/users/%d", "/api/v1/search?q=shoes&page=%d",
		"/static/css/site.css", "/static/js/app.%d.js", "/static/img/logo.png", "/favicon.ico",
		"/robots.txt", "/sitemap.xml", "/login", "/logout", "/account/settings", "/wp-login.php",
		"/images/banner-%d.jpg", "/downloads/report-%d.pdf", "/search?q=kafka+connect&page=%d",
	}
	protocols = []string{"HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/2.0", "HTTP/1.0"}
	statuses  = []int{200, 200, 200, 200, 200, 200, 200, 200, 304, 304, 301, 302, 404, 404, 403, 500, 503, 201, 204}
	referrers = []string{
		"-", "-", "https://www.example.com/", "https://www.example.com/products",
		"https://www.google.com/search?q=example+shop", "https://duckduckgo.com/",
		"https://news.ycombinator.com/item?id=41234567", "https://t.co/aBcD1234",
	}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"curl/8.5.0", "python-requests/2.32.3",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	}
	users = []string{"-", "-", "-", "-", "-", "-", "-", "frank", "alice", "bob"}
)

// Line returns the next line, without a trailing newline. The returned
// slice is reused by the next call.
func (g *Generator) Line() []byte {
	r := g.rng
	b := g.buf[:0]
	// client address: mostly documentation ranges, some private
	switch r.IntN(4) {
	case 0:
		b = append(b, "192.0.2."...)
	case 1:
		b = append(b, "198.51.100."...)
	case 2:
		b = append(b, "203.0.113."...)
	default:
		b = append(b, "10.0."...)
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
		b = append(b, '.')
	}
	b = strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
	b = append(b, " - "...)
	b = append(b, users[r.IntN(len(users))]...)
	b = append(b, " ["...)
	b = g.now.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, methods[r.IntN(len(methods))]...)
	b = append(b, ' ')
	p := paths[r.IntN(len(paths))]
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+1 < len(p) && p[i+1] == 'd' {
			b = strconv.AppendInt(b, int64(1+r.IntN(9999)), 10)
			i++
			continue
		}
		b = append(b, p[i])
	}
	b = append(b, ' ')
	b = append(b, protocols[r.IntN(len(protocols))]...)
	b = append(b, "\" "...)
	status := statuses[r.IntN(len(statuses))]
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if status == 304 || status == 204 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(200+r.IntN(48000)), 10)
	}
	b = append(b, " \""...)
	b = append(b, referrers[r.IntN(len(referrers))]...)
	b = append(b, "\" \""...)
	b = append(b, agents[r.IntN(len(agents))]...)
	b = append(b, '"')
	g.now = g.now.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
	g.buf = b
	return b
}

// WriteLines writes n newline-terminated lines to w.
func (g *Generator) WriteLines(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for i := 0; i < n; i++ {
		bw.Write(g.Line())
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}
