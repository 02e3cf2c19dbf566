package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/broker/group"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A connection is served by three goroutines, owned by conn.serve:
//
//   - the reader reads size-prefixed frames, at most one ahead of the
//     request being processed. A frame's size is checked against
//     socket.request.max.bytes before anything is allocated, and its
//     buffer grows only as bytes arrive, so a client announcing a large
//     frame and sending little costs little. A frame must arrive whole
//     within connections.max.idle.ms, and a connection with no request in
//     progress and none arriving for that long is closed;
//   - the processor (serve itself) decodes and handles one request at a
//     time, in order, so a connection's requests take effect in the order
//     sent (a long-poll fetch or a rebalance holds the next request back,
//     as Kafka's muted channel does);
//   - the writer encodes the replies in the same order; a write that
//     makes no progress for connections.max.idle.ms (a client that does
//     not read) ends the connection. At most a few replies wait for the
//     writer: the processor, then the reader, stop when they are queued,
//     so a client that never reads holds a bounded amount of memory until
//     it is cut. A reply may carry
//     a wait (an acks=all produce waiting for its fsync), which the writer
//     runs before encoding it; meanwhile the processor goes on with the
//     next requests, so one connection's pipelined produces share fsyncs.
//
// Responses are batched into one write while more are ready.
type conn struct {
	b   *Broker
	nc  net.Conn
	lis *listener
	log *slog.Logger

	// ctx ends when the client goes away or the broker stops; handlers
	// that block (long-poll fetches, group rebalances) watch it.
	ctx    context.Context
	cancel context.CancelFunc

	frames  chan []byte
	replies chan *pending

	// inflight counts requests read and not yet answered: a connection
	// is not idle while one is in progress.
	inflight atomic.Int32
	// stopping is set when the reader must stop at its next frame.
	stopping atomic.Bool
	// ip is the client's address, counted against max.connections.per.ip.
	ip string

	// SASL state, used by the processor only: the exchange in progress
	// (after SaslHandshake), whether its tokens are bare frames (v0
	// handshake), and whether the client has authenticated.
	saslMech string
	saslExch saslExchange
	saslRaw  bool
	authed   bool

	// clientID is the client id of the request being processed (quota.go).
	clientID string
}

// reply is a handler's answer to one request.
type reply struct {
	resp kmsg.Response
	// wait, if set, runs on the writer before resp is encoded; it may
	// fill in resp (errors found while waiting).
	wait func()
	// release, if set, runs once resp is encoded (returns buffers).
	release func()
	// none: the request gets no response (acks=0 produce).
	none bool
	// closeAfter: close the connection once earlier replies are written.
	closeAfter bool
	// raw, if set, is written as a size-prefixed frame instead of resp
	// (SASL tokens after a v0 SaslHandshake carry no Kafka header).
	raw []byte
	// throttle, if set, mutes the connection (no next request is
	// processed) for that long once the reply is queued, or before it is
	// queued with throttleFirst (a client quota, quota.go).
	throttle      time.Duration
	throttleFirst bool
}

type pending struct {
	reply
	corr int32
	key  int16
	// received is when the request's frame was taken by the processor
	// (the request metrics, metrics.go).
	received time.Time
}

const (
	readBufferSize  = 8 << 10
	maxBatchedWrite = 1 << 20
	// initialFrameBuffer is the most allocated for a frame before its
	// bytes arrive; larger frames grow their buffer fourfold as they come.
	initialFrameBuffer = 16 << 10
	// minFrameSize is a request header with an empty client id.
	minFrameSize = 10
	// tlsHandshakeTimeout bounds a TLS handshake (connections.max.idle.ms
	// if shorter).
	tlsHandshakeTimeout = 10 * time.Second
)

func newConn(b *Broker, nc net.Conn, l *listener) *conn {
	ctx, cancel := context.WithCancel(b.ctx)
	ip := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return &conn{
		ip:      ip,
		b:       b,
		nc:      nc,
		lis:     l,
		log:     b.log.With("client", nc.RemoteAddr().String()),
		ctx:     ctx,
		cancel:  cancel,
		frames:  make(chan []byte, 1),
		replies: make(chan *pending, 8),
	}
}

// stopReading makes the reader stop, so the connection ends once its
// current request is answered.
func (c *conn) stopReading() {
	c.stopping.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

func (c *conn) serve() {
	defer c.b.trackConn(c, false)
	stop := context.AfterFunc(c.b.ctx, func() { c.nc.Close() })
	defer stop()
	if tc, ok := c.nc.(*tls.Conn); ok {
		timeout := tlsHandshakeTimeout
		if idle := c.b.cfg.ConnectionsMaxIdle; idle > 0 {
			timeout = min(timeout, idle)
		}
		tc.SetDeadline(time.Now().Add(timeout))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			c.log.Info("closing connection: TLS handshake failed", "err", err)
			c.cancel()
			c.nc.Close()
			return
		}
		tc.SetDeadline(time.Time{})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.readLoop() }()
	go func() { defer wg.Done(); c.writeLoop() }()
	c.processLoop()
	close(c.replies) // the writer ends once it has answered what was handled
	c.cancel()
	c.stopReading()
	wg.Wait()
	c.nc.Close()
	for buf := range c.frames {
		putBuf(buf)
	}
}

func (c *conn) readLoop() {
	defer close(c.frames)
	defer c.cancel()
	r := bufio.NewReaderSize(c.nc, readBufferSize)
	idle := c.b.cfg.ConnectionsMaxIdle
	var size [4]byte
	for {
		if idle > 0 {
			c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		if c.stopping.Load() {
			return
		}
		got, err := io.ReadFull(r, size[:])
		if err != nil {
			switch {
			case c.stopping.Load():
			case isTimeout(err) && got == 0 && c.inflight.Load() > 0:
				continue // a long request in progress: not idle
			case isTimeout(err) && got == 0:
				c.log.Debug("closing idle connection", "connections.max.idle.ms", idle.Milliseconds())
			case isTimeout(err):
				c.log.Info("closing connection: request frame not received whole within connections.max.idle.ms", "connections.max.idle.ms", idle.Milliseconds())
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrUnexpectedEOF):
				c.log.Debug("read failed", "err", err)
			}
			return
		}
		// Frames shorter than a request header are let through: bare SASL
		// tokens (after a v0 SaslHandshake) may be; the processor closes
		// the connection on any other.
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 0 || int64(n) > int64(c.b.cfg.SocketRequestMaxBytes) {
			c.log.Info("closing connection: request frame size out of range", "bytes", n, "socket.request.max.bytes", c.b.cfg.SocketRequestMaxBytes)
			return
		}
		buf, err := readBody(r, int(n))
		if err != nil {
			switch {
			case c.stopping.Load():
			case isTimeout(err):
				c.log.Info("closing connection: request frame not received whole within connections.max.idle.ms", "bytes", n, "connections.max.idle.ms", idle.Milliseconds())
			default:
				c.log.Debug("read failed", "err", err)
			}
			return
		}
		c.inflight.Add(1)
		select {
		case c.frames <- buf:
		case <-c.ctx.Done():
			putBuf(buf)
			return
		}
	}
}

// readBody reads an n-byte frame body into a pooled buffer. The buffer
// starts at what is already buffered (or initialFrameBuffer) and grows
// fourfold as bytes arrive, so memory follows the bytes received rather
// than the size announced.
func readBody(r *bufio.Reader, n int) ([]byte, error) {
	buf := getBuf(min(n, max(r.Buffered(), initialFrameBuffer)))
	got := 0
	for {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			putBuf(buf)
			return nil, err
		}
		if got == n {
			return buf, nil
		}
		next := getBuf(min(n, 4*len(buf)))
		copy(next, buf[:got])
		putBuf(buf)
		buf = next
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *conn) processLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case buf, ok := <-c.frames:
			if !ok {
				return
			}
			received := time.Now()
			p := c.process(buf)
			if p == nil {
				return
			}
			p.received = received
			if p.throttle > 0 && p.throttleFirst && !c.mute(p.throttle) {
				return
			}
			c.replies <- p
			if p.closeAfter {
				return
			}
			if p.throttle > 0 && !p.throttleFirst && !c.mute(p.throttle) {
				return
			}
		}
	}
}

// mute holds the processor for d, as Kafka mutes a throttled channel; it
// reports false when the connection ends meanwhile.
func (c *conn) mute(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// process decodes and handles one request frame. It returns nil when the
// connection must be closed without answering (a frame that cannot be
// decoded: an unknown API key, a version the protocol library does not
// know, a truncated body; an API the broker does not serve; a version not
// served whose response cannot carry an error for every item).
func (c *conn) process(buf []byte) (p *pending) {
	recycle := true
	defer func() {
		if recycle {
			putBuf(buf)
		}
	}()
	if c.saslRaw {
		return c.saslRawToken(buf)
	}
	r := kbin.Reader{Src: buf}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	clientID := r.NullableString()
	if !r.Ok() {
		c.log.Info("closing connection: request header does not parse")
		return nil
	}
	if c.lis.sasl != nil && !c.authed {
		// Before authentication: ApiVersions and SaslHandshake, then
		// only SaslAuthenticate. Anything else is not even decoded.
		allowed := key == 18 || key == 17
		if c.saslExch != nil {
			allowed = key == 36
		}
		if !allowed {
			c.log.Info("closing connection: request before SASL authentication", "api", kmsg.NameForKey(key), "version", version)
			return nil
		}
	}
	c.clientID = ""
	if clientID != nil {
		c.clientID = *clientID
	}
	log := c.log
	if clientID != nil {
		log = log.With("client_id", *clientID)
	}
	v, served := c.b.versions[key]
	if key == 18 && (!served || version < v.min || version > v.max) {
		// KIP-511: answer at v0 with the versions we serve, so the
		// client retries with one of them; the body is not read.
		return &pending{corr: corr, key: key, reply: reply{resp: apiVersionsV0Unsupported(c.b)}}
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		log.Info("closing connection: unknown API key", "api_key", key, "version", version)
		return nil
	}
	if version < 0 || version > req.MaxVersion() {
		log.Info("closing connection: API version unknown to this broker", "api", kmsg.NameForKey(key), "version", version)
		return nil
	}
	req.SetVersion(version)
	if req.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if err := req.ReadFrom(r.Src); err != nil || !r.Ok() {
		log.Info("closing connection: request body does not parse", "api", kmsg.NameForKey(key), "version", version, "err", err)
		return nil
	}
	p = &pending{corr: corr, key: key}
	if !served {
		// An API ApiVersions does not advertise: Kafka closes the
		// connection. A generic reply would carry no error where the
		// response has no field mirroring the request (CreateAcls), and
		// a client would read it as success.
		log.Info("closing connection: API not served by this broker", "api", kmsg.NameForKey(key), "version", version)
		return nil
	}
	if version < v.min || version > v.max {
		// A served API at a version not served: every item of the
		// request is refused with UNSUPPORTED_VERSION (Produce v0-2,
		// advertised but refused, see advertisedBelow) when the
		// response can say so for each; otherwise the connection is
		// closed, as Kafka does.
		msg := fmt.Sprintf("%s v%d is not supported; this broker serves v%d to v%d", kmsg.NameForKey(key), version, v.min, v.max)
		resp := errorResponse(req, kerr.UnsupportedVersion.Code, msg)
		if !refusesEveryItem(req, resp) {
			log.Info("closing connection: API version not served", "api", kmsg.NameForKey(key), "version", version, "served", fmt.Sprintf("v%d-%d", v.min, v.max))
			return nil
		}
		log.Debug("unsupported version", "api", kmsg.NameForKey(key), "version", version)
		p.resp = resp
		return p
	}
	defer func() {
		if r := recover(); r != nil {
			log.Error("request handler panicked; closing connection", "api", kmsg.NameForKey(key), "version", version, "panic", r, "stack", string(debug.Stack()))
			p = nil
		}
	}()
	// The ACLs: a request denied as a whole is answered so; items
	// denied are taken out of req and answered after the handler.
	deny, after := c.b.authorizeRequest(c, req)
	if deny != nil {
		log.Info("request denied by the ACLs", "api", kmsg.NameForKey(key), "principal", c.principal())
		p.resp = deny
		return p
	}
	if v.group {
		// The coordinator may keep byte slices of the request (member
		// metadata, assignments): the frame is not recycled.
		recycle = false
		cid := ""
		if clientID != nil {
			cid = *clientID
		}
		resp := c.b.coord.Handle(group.WithClient(c.ctx, cid, c.ip), req)
		if resp == nil {
			resp = errorResponse(req, kerr.UnknownServerError.Code, "the group coordinator did not answer")
		}
		p.resp = resp
	} else {
		p.reply = handlers[key](c.b, c, req)
	}
	if after != nil {
		// After the handler's answer is complete: a waiting reply fills
		// it in on the writer.
		if wait := p.wait; wait != nil {
			p.wait = func() {
				wait()
				if p.resp != nil {
					after(p.resp)
				}
			}
		} else if p.resp != nil {
			after(p.resp)
		}
	}
	return p
}

func (c *conn) writeLoop() {
	// out is taken from the pool only while replies are being written:
	// an idle connection holds no write buffer.
	var out []byte
	defer func() {
		if out != nil {
			putBuf(out)
		}
	}()
	idle := c.b.cfg.ConnectionsMaxIdle
	failed := false
	flush := func() {
		if len(out) > 0 && !failed {
			if idle > 0 {
				c.nc.SetWriteDeadline(time.Now().Add(idle))
			}
			if _, err := c.nc.Write(out); err != nil {
				if isTimeout(err) {
					c.log.Info("closing connection: the client has not read its responses for connections.max.idle.ms", "connections.max.idle.ms", idle.Milliseconds())
				}
				failed = true
				c.cancel()
			}
		}
		out = out[:0]
	}
	for p := range c.replies {
		if p.wait != nil {
			p.wait()
		}
		if !p.none && !failed {
			if out == nil {
				out = getBuf(64 << 10)[:0]
			}
			if p.raw != nil {
				out = binary.BigEndian.AppendUint32(out, uint32(len(p.raw)))
				out = append(out, p.raw...)
			} else {
				out = appendResponse(out, p.corr, p.resp)
			}
		}
		if p.release != nil {
			p.release()
		}
		c.b.metrics.requestDone(p)
		if p.closeAfter {
			flush()
			failed = true
			c.cancel()
			c.nc.Close()
			continue
		}
		c.inflight.Add(-1)
		if out != nil && (len(c.replies) == 0 || len(out) >= maxBatchedWrite) {
			flush()
			if len(c.replies) == 0 || cap(out) > 4<<20 {
				putBuf(out)
				out = nil
			}
		}
	}
	flush()
}

// refusesEveryItem reports whether an error response built by
// errorResponse cannot be read as success: it carries a non-zero ErrorCode,
// and every element of every list in it carries one too, itself, below it
// or in an enclosing struct (a topic's partitions, a partition's topic).
// The response is encoded and decoded first, so that fields the version
// does not have (which errorResponse sets all the same) do not count.
func refusesEveryItem(req kmsg.Request, resp kmsg.Response) bool {
	wire := req.ResponseKind()
	wire.SetVersion(resp.GetVersion())
	if err := wire.ReadFrom(resp.AppendTo(nil)); err != nil {
		return false
	}
	v := reflect.ValueOf(wire).Elem()
	return carriesError(v) && everyItemRefused(v, false)
}

func ownError(v reflect.Value) bool {
	f := v.FieldByName("ErrorCode")
	return f.IsValid() && f.Type() == int16Type && f.Int() != 0
}

// carriesError: v or something in it has a non-zero ErrorCode.
func carriesError(v reflect.Value) bool {
	if ownError(v) {
		return true
	}
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct && v.Type().Field(i).IsExported():
			if carriesError(f) {
				return true
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			for j := range f.Len() {
				if carriesError(f.Index(j)) {
					return true
				}
			}
		}
	}
	return false
}

func everyItemRefused(v reflect.Value, covered bool) bool {
	covered = covered || ownError(v)
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch {
		case f.Kind() == reflect.Struct:
			if !everyItemRefused(f, covered) {
				return false
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			for j := range f.Len() {
				e := f.Index(j)
				if !covered && !carriesError(e) || !everyItemRefused(e, covered) {
					return false
				}
			}
		}
	}
	return true
}

// appendResponse frames resp: size, correlation id, header tags (flexible
// responses other than ApiVersions, whose header is always v0), body.
func appendResponse(out []byte, corr int32, resp kmsg.Response) []byte {
	start := len(out)
	out = append(out, 0, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(corr))
	if resp.IsFlexible() && resp.Key() != 18 {
		out = append(out, 0)
	}
	out = resp.AppendTo(out)
	binary.BigEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	return out
}
