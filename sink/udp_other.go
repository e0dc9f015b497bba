//go:build !unix

package sink

import "net"

// refused is a no-op where the pending socket error cannot be read: a
// refusal then shows on the next write instead.
func refused(*net.UDPConn) error { return nil }
