package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot"

	golioapi "github.com/KnutZuidema/golio/api"
	golio "github.com/KnutZuidema/golio/riot"
	"github.com/KnutZuidema/golio/riot/lol"
	"github.com/sirupsen/logrus"
)

// ErrNotFound is Riot's 404: no such player, no live game, or a match not
// processed yet. It is a normal answer, not a failure.
var ErrNotFound = errors.New("not found")

// Client calls the Riot endpoints riftbridge needs. golio v1.0.0 serves
// account-v1 and the match id list; spectator-v5, match and timeline are
// fetched through the same Doer and decoded into riftbridge's v5 types,
// because golio calls the retired spectator-v4, decodes timelines in the v4
// shape and drops endOfGameResult from matches.
type Client struct {
	doer  *Doer
	quiet logrus.FieldLogger
}

// NewClient returns a client sending every request through d.
func NewClient(d *Doer) *Client {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard) // golio logs each error three times; the Doer logs once
	return &Client{doer: d, quiet: quiet}
}

// golio builds a golio client bound to ctx and platform. It is cheap and
// makes no request (unlike golio.NewClient, which calls Data Dragon).
func (c *Client) golio(ctx context.Context, platform string) *golio.Client {
	return golio.NewClient(golioapi.Region(platform), "", boundDoer{ctx: WithPlatform(ctx, platform), d: c.doer}, c.quiet)
}

// boundDoer gives golio's context-free requests the poll's context.
type boundDoer struct {
	ctx context.Context
	d   *Doer
}

func (b boundDoer) Do(req *http.Request) (*http.Response, error) {
	return b.d.Do(req.WithContext(b.ctx))
}

// Errors name what was asked for first, then the endpoint (and, from the
// Doer, the route): "KR_1: match-v5.getMatch on asia: http 500 after
// retries", each thing once.

// PUUID resolves a Riot ID ("Name#TAG") to the player's PUUID.
func (c *Client) PUUID(ctx context.Context, platform, riotID string) (string, error) {
	name, tag, ok := strings.Cut(riotID, "#")
	if !ok || name == "" || tag == "" {
		return "", fmt.Errorf("riot id %q: want Name#TAG", riotID)
	}
	// golio does not escape: "?", "#", "/" and "%" would break the path.
	acc, err := c.golio(ctx, platform).Account.GetByRiotID(url.PathEscape(name), url.PathEscape(tag))
	if err != nil {
		return "", fmt.Errorf("%q: %w", riotID, golioErr(EndpointAccount, err))
	}
	if acc.Puuid == "" {
		return "", fmt.Errorf("%q: %s: empty puuid in answer", riotID, EndpointAccount)
	}
	return acc.Puuid, nil
}

// MatchIDs lists up to count of the player's match ids, newest first,
// limited to games started at or after since when it is not zero.
func (c *Client) MatchIDs(ctx context.Context, platform, puuid string, since time.Time, count int) ([]string, error) {
	// golio's ListStream panics without a queue filter; List with one page is enough.
	ids, err := c.golio(ctx, platform).LoL.Match.List(puuid, 0, min(max(count, 1), 100), &lol.MatchListOptions{StartTime: since})
	if err != nil {
		return nil, golioErr(EndpointMatchIDs, err)
	}
	return ids, nil
}

// ActiveGame returns the player's live game, or ErrNotFound when the player
// is not in one.
func (c *Client) ActiveGame(ctx context.Context, platform, puuid string) (*riot.ActiveGame, error) {
	var g *riot.ActiveGame
	err := c.get(ctx, platform, "/lol/spectator/v5/active-games/by-summoner/"+url.PathEscape(puuid), EndpointSpectator, func(b []byte) (err error) {
		g, err = riot.DecodeActiveGame(b, EndpointSpectator)
		return err
	})
	return g, err
}

// Match fetches a match-v5 match; ErrNotFound until Riot has processed it.
func (c *Client) Match(ctx context.Context, matchID string) (*riot.Match, error) {
	var m *riot.Match
	err := c.get(ctx, "", "/lol/match/v5/matches/"+url.PathEscape(matchID), EndpointMatch, func(b []byte) (err error) {
		if m, err = riot.DecodeMatch(b, EndpointMatch); err == nil {
			err = sameMatch(EndpointMatch, matchID, m.Metadata.MatchID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", matchID, err)
	}
	return m, nil
}

// Timeline fetches a match-v5 timeline; ErrNotFound until Riot has
// processed the match.
func (c *Client) Timeline(ctx context.Context, matchID string) (*riot.Timeline, error) {
	var tl *riot.Timeline
	err := c.get(ctx, "", "/lol/match/v5/matches/"+url.PathEscape(matchID)+"/timeline", EndpointTimeline, func(b []byte) (err error) {
		if tl, err = riot.DecodeTimeline(b, EndpointTimeline); err == nil {
			err = sameMatch(EndpointTimeline, matchID, tl.Metadata.MatchID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", matchID, err)
	}
	return tl, nil
}

// sameMatch refuses a document whose matchId is not the one asked for: it
// would be emitted under another game's id.
func sameMatch(endpoint, asked, got string) error {
	if got == asked {
		return nil
	}
	return &riot.InputError{File: endpoint, Offset: -1, Err: fmt.Errorf("%w: its matchId is %q", riot.ErrWrongMatch, got)}
}

// get sends a GET through the Doer and hands a 200 body to decode. The
// Doer's errors name the endpoint and route; get names the endpoint in its
// own.
func (c *Client) get(ctx context.Context, platform, path, endpoint string, decode func([]byte) error) error {
	// The host is a placeholder: the Doer routes by path, match id and platform.
	req, err := http.NewRequestWithContext(WithPlatform(ctx, platform), http.MethodGet, "https://riot.invalid"+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.doer.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body) // already buffered by the Doer
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", endpoint, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: http %d", endpoint, resp.StatusCode)
	}
	return decode(body)
}

// golioErr turns golio's 404 into ErrNotFound, naming the endpoint, and
// keeps everything else: golio passes the Doer's own errors, which name it
// already, through unchanged.
func golioErr(endpoint string, err error) error {
	if errors.Is(err, golioapi.ErrNotFound) {
		return fmt.Errorf("%s: %w", endpoint, ErrNotFound)
	}
	return err
}
