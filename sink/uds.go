package sink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// unixSocket writes to the Agent's Unix datagram socket (dogstatsd_socket).
// The kernel makes a writer wait while the Agent's receive queue is full,
// so a slow Agent slows riftbridge down instead of losing datagrams; a
// missing or dead socket fails the write, and the next one dials again,
// since a restarted Agent listens on a new socket at the same path.
type unixSocket struct {
	path string

	mu   sync.Mutex // guards conn between send and unblock
	conn *net.UnixConn
}

var _ socket = (*unixSocket)(nil)

func (u *unixSocket) send(p []byte, deadline time.Time, giveUp <-chan struct{}) error {
	conn, err := u.connect()
	if err != nil {
		return err
	}
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	// abandon closes giveUp before it unblocks: checked after the deadline
	// is set, one of the two always cuts the write short.
	if closed(giveUp) {
		_ = conn.SetWriteDeadline(time.Now())
	}
	_, err = conn.Write(p)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		u.disconnect(conn)
	}
	return err
}

func (u *unixSocket) connect() (*net.UnixConn, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn != nil {
		return u.conn, nil
	}
	// Connecting a datagram socket only names the peer: it never blocks.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: u.path, Net: "unixgram"})
	if errors.Is(err, syscall.EPROTOTYPE) {
		return nil, fmt.Errorf("%s is a stream socket, not the agent's datagram socket (dogstatsd_socket): %w", u.path, err)
	}
	if err != nil {
		return nil, err
	}
	u.conn = conn
	return conn, nil
}

func (u *unixSocket) disconnect(conn *net.UnixConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn == conn {
		_ = conn.Close()
		u.conn = nil
	}
}

func (u *unixSocket) unblock() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn != nil {
		_ = u.conn.SetWriteDeadline(time.Now())
	}
}

func (u *unixSocket) close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn == nil {
		return nil
	}
	err := u.conn.Close()
	u.conn = nil
	return err
}
