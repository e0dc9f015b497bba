package sink

import (
	"net"
	"time"
)

// udpSocket writes to the Agent's UDP port. UDP has no backpressure: a
// datagram the Agent has not read by the time its receive buffer is full is
// dropped by the kernel without a word, so the writer paces what it sends.
// What the kernel does say, on loopback at once, is that nothing listens
// on the port (ICMP port unreachable): that datagram is refused, and the
// writer waits for the Agent as it does on a Unix socket.
type udpSocket struct {
	conn *net.UDPConn
}

var _ socket = (*udpSocket)(nil)

func dialUDP(hostPort string) (*udpSocket, error) {
	raddr, err := net.ResolveUDPAddr("udp", hostPort)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	return &udpSocket{conn: conn}, nil
}

func (u *udpSocket) send(p []byte, deadline time.Time, _ <-chan struct{}) error {
	if err := u.conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	// An error here may be the refusal of an earlier datagram, reported
	// late (a remote Agent): this one was not sent either.
	if _, err := u.conn.Write(p); err != nil {
		return err
	}
	return refused(u.conn)
}

func (u *udpSocket) unblock() { _ = u.conn.SetWriteDeadline(time.Now()) }

func (u *udpSocket) close() error { return u.conn.Close() }
