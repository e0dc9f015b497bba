package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/riftbridge/riftbridge/riot"
)

// Endpoint names, as Riot names its methods; they key the method rate
// limits and tag the bridge's request metrics.
const (
	EndpointAccount   = "account-v1.getByRiotId"
	EndpointSpectator = "spectator-v5.getCurrentGameInfoByPuuid"
	EndpointMatchIDs  = "match-v5.getMatchIdsByPUUID"
	EndpointMatch     = "match-v5.getMatch"
	EndpointTimeline  = "match-v5.getTimeline"
)

type platformKey struct{}

// WithPlatform tells the Doer which platform a request is about, so it can
// pick the platform or regional host itself instead of trusting golio's.
func WithPlatform(ctx context.Context, platform string) context.Context {
	return context.WithValue(ctx, platformKey{}, platform)
}

func platformFrom(ctx context.Context) string {
	p, _ := ctx.Value(platformKey{}).(string)
	return p
}

// endpoint is a Riot method riftbridge calls and how it is routed.
type endpoint struct {
	name     string
	regional bool
	account  bool
	matchID  string // for match and timeline: the route follows its prefix
}

// classify names the endpoint of a Riot path. Only the methods riftbridge
// uses pass: Riot blacklists keys that call resources that do not exist.
func classify(path string) (endpoint, error) {
	switch {
	case strings.HasPrefix(path, "/riot/account/v1/accounts/by-riot-id/"):
		return endpoint{name: EndpointAccount, regional: true, account: true}, nil
	case strings.HasPrefix(path, "/lol/spectator/v5/active-games/by-summoner/"):
		return endpoint{name: EndpointSpectator}, nil
	case strings.HasPrefix(path, "/lol/match/v5/matches/by-puuid/") && strings.HasSuffix(path, "/ids"):
		return endpoint{name: EndpointMatchIDs, regional: true}, nil
	case strings.HasPrefix(path, "/lol/match/v5/matches/"):
		rest := strings.TrimPrefix(path, "/lol/match/v5/matches/")
		if id, ok := strings.CutSuffix(rest, "/timeline"); ok && !strings.Contains(id, "/") {
			return endpoint{name: EndpointTimeline, regional: true, matchID: id}, nil
		}
		if rest != "" && !strings.Contains(rest, "/") {
			return endpoint{name: EndpointMatch, regional: true, matchID: rest}, nil
		}
	}
	return endpoint{}, fmt.Errorf("riot: refusing unsupported endpoint %s", path)
}

// route picks the host label: the platform for platform endpoints, its
// regional cluster otherwise. A match id's own prefix (KR_…) wins, so a
// match is fetched from where it was played.
func (e endpoint) route(u *url.URL, platform string) (string, error) {
	if e.matchID != "" {
		if prefix, _, ok := strings.Cut(e.matchID, "_"); ok {
			platform = prefix
		}
	}
	if platform == "" {
		// golio puts its region in the host: kr.api.riotgames.com.
		platform, _, _ = strings.Cut(u.Hostname(), ".")
	}
	p, err := riot.NormalizePlatform(platform)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e.name, err)
	}
	switch {
	case e.account:
		return riot.AccountRegion(p), nil
	case e.regional:
		return riot.Region(p), nil
	}
	return p, nil
}
