package ingame

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// riotRoot is the root Riot signs the game client's certificate with, as
// Riot publishes it (https://static.developer.riotgames.com/docs/lol/riotgames.pem).
//
//go:embed riotgames.pem
var riotRoot []byte

// RiotRoots is a pool holding Riot's root alone: what the game client's
// certificate must chain to.
func RiotRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(riotRoot) {
		panic("ingame: the bundled riotgames.pem holds no certificate") // a broken build, caught by its tests
	}
	return pool
}

// ErrNoGame means the game client serves no game: it is not running
// (connection refused), is loading one (404), or has left it for the
// post-game screen (the connection cut). It is the normal idle state.
var ErrNoGame = errors.New("no game running")

// Client reads the game client's Live Client Data API at one address,
// trusting only certificates that chain to its pinned roots.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the API at base ("https://127.0.0.1:2999")
// whose certificate must chain to roots; the host name is not checked (the
// game's certificate has none to check), the chain always is. Each request
// is bounded by timeout.
func NewClient(base string, roots *x509.CertPool, timeout time.Duration) *Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			// Turns off crypto/tls's own check only, for VerifyChain's: the
			// pinned roots, without the host name.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				return liveclient.VerifyChain(roots, raw)
			},
			MinVersion: tls.VersionTLS12,
		},
		// One game client, polled once a second: keep its connection.
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
		// A proxy would see the game's data and could answer for it.
		Proxy: nil,
	}
	return &Client{
		base: strings.TrimSuffix(base, "/"),
		hc: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// The game client never redirects; an answer that does is not it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// AllGameData fetches the game's snapshot with the events from eventID on
// (all of them when eventID is 0), and the body as served.
func (c *Client) AllGameData(ctx context.Context, eventID int) (*liveclient.AllGameData, []byte, error) {
	body, err := c.get(ctx, "allgamedata", eventID)
	if err != nil {
		return nil, nil, err
	}
	g, err := liveclient.DecodeAllGameData(body)
	return g, body, err
}

// Events fetches the events from eventID on, and the body as served.
func (c *Client) Events(ctx context.Context, eventID int) ([]liveclient.Event, []byte, error) {
	body, err := c.get(ctx, "eventdata", eventID)
	if err != nil {
		return nil, nil, err
	}
	evs, err := liveclient.DecodeEvents(body)
	return evs, body, err
}

// CloseIdleConnections closes the kept connection, for a client given up.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

func (c *Client) get(ctx context.Context, endpoint string, eventID int) ([]byte, error) {
	url := c.base + "/liveclientdata/" + endpoint
	if eventID > 0 {
		url += "?eventID=" + strconv.Itoa(eventID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if gone(err) && ctx.Err() == nil {
			return nil, fmt.Errorf("%s: %w", endpoint, ErrNoGame)
		}
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	// One byte over the cap tells a body that is too large from one that
	// fits exactly.
	body, err := io.ReadAll(io.LimitReader(resp.Body, liveclient.MaxBody+1))
	switch {
	case err != nil && gone(err) && ctx.Err() == nil:
		return nil, fmt.Errorf("%s: %w", endpoint, ErrNoGame)
	case err != nil:
		return nil, fmt.Errorf("%s: read body: %w", endpoint, err)
	case resp.StatusCode == http.StatusNotFound:
		// Loading, or between games: the API answers, with no game.
		return nil, fmt.Errorf("%s: http 404: %w", endpoint, ErrNoGame)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: http %d", endpoint, resp.StatusCode)
	}
	return body, nil
}

// gone tells a game client that is not there, or went away mid-answer,
// from other failures (a certificate refused, a timeout). It goes by the
// operation that failed rather than by errno, which Windows, where the game
// runs, numbers apart.
func gone(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && !op.Timeout() {
		// Nothing listening (refused, unreachable), or the connection cut
		// as the client left the game.
		return op.Op == "dial" || op.Op == "read"
	}
	return false
}
