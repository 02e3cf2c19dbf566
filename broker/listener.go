package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"
)

// listener is one entry of listeners: one or more bound sockets (two for
// localhost, which is both 127.0.0.1 and ::1) and the address Metadata
// advertises for it.
type listener struct {
	name string
	// tls is set on SSL and SASL_SSL listeners, sasl on SASL_PLAINTEXT
	// and SASL_SSL ones.
	tls     *tls.Config
	sasl    *saslServer
	nls     []net.Listener
	port    int
	advHost string
	advPort int
}

func (l *listener) bound() string { return l.nls[0].Addr().String() }

func (l *listener) advertised() string {
	return net.JoinHostPort(l.advHost, strconv.Itoa(l.advPort))
}

func (l *listener) close() {
	for _, nl := range l.nls {
		nl.Close()
	}
}

// bindListener binds one listener. An empty host, 0.0.0.0 or :: binds
// every interface (IPv4 and IPv6). localhost binds each loopback address
// it resolves to, on one port, so that clients resolving it to ::1 first
// connect as well as those resolving it to 127.0.0.1.
func bindListener(ctx context.Context, lc, adv Listener, log *slog.Logger) (*listener, error) {
	l := &listener{name: lc.Name, tls: lc.TLS}
	if lc.SASL != nil {
		s, err := newSASLServer(lc.SASL)
		if err != nil {
			return nil, fmt.Errorf("listener %s: %w", lc, err)
		}
		l.sasl = s
	}
	var lcfg net.ListenConfig
	var hosts []string
	switch ip := net.ParseIP(lc.Host); {
	case lc.Host == "" || (ip != nil && ip.IsUnspecified()):
		hosts = []string{""}
	case lc.Host == "localhost":
		// Both loopbacks, whatever this machine's resolver says: a client
		// elsewhere in the stack (glibc, a JVM) may resolve localhost to
		// ::1 first.
		hosts = []string{"127.0.0.1", "::1"}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		addrs, _ := net.DefaultResolver.LookupIPAddr(rctx, "localhost")
		cancel()
		for _, a := range addrs {
			if a.IP.IsLoopback() && !a.IP.Equal(net.IPv4(127, 0, 0, 1)) && !a.IP.Equal(net.IPv6loopback) {
				hosts = append(hosts, a.IP.String())
			}
		}
	default:
		hosts = []string{lc.Host}
	}
	port := lc.Port
	for i, h := range hosts {
		nl, err := lcfg.Listen(ctx, "tcp", net.JoinHostPort(h, strconv.Itoa(port)))
		if err != nil {
			if i > 0 {
				// A second loopback address (::1 on a host without IPv6)
				// is a convenience, not a requirement.
				log.Debug("cannot bind the other loopback address", "listener", lc.Name, "addr", h, "err", err)
				continue
			}
			l.close()
			return nil, fmt.Errorf("listener %s: %w", lc, err)
		}
		if port == 0 {
			port = nl.Addr().(*net.TCPAddr).Port
		}
		l.nls = append(l.nls, nl)
	}
	l.port = port

	l.advHost, l.advPort = adv.Host, adv.Port
	if adv.Name == "" {
		l.advHost, l.advPort = lc.Host, port
	}
	if l.advPort == 0 {
		l.advPort = port
	}
	if ip := net.ParseIP(l.advHost); l.advHost == "" || (ip != nil && ip.IsUnspecified()) {
		l.advHost = defaultAdvertisedHost(ctx)
	}
	return l, nil
}

// defaultAdvertisedHost is what an empty or unspecified host advertises:
// the machine's host name if it resolves, else 127.0.0.1. Never 0.0.0.0.
func defaultAdvertisedHost(ctx context.Context) string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "127.0.0.1"
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(rctx, name); err != nil || len(addrs) == 0 {
		return "127.0.0.1"
	}
	return name
}
