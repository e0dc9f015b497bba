//go:build unix

package sink

import (
	"net"
	"syscall"
)

// refused reads and clears the socket's pending error: ECONNREFUSED once
// the ICMP port-unreachable answer to the datagram just sent has arrived,
// which on loopback happens before the write returns.
func refused(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var pending int
	var getErr error
	if err := raw.Control(func(fd uintptr) {
		pending, getErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); err != nil {
		return err
	}
	if getErr != nil {
		return getErr
	}
	if pending != 0 {
		return &net.OpError{Op: "write", Net: "udp", Addr: conn.RemoteAddr(), Err: syscall.Errno(pending)}
	}
	return nil
}
