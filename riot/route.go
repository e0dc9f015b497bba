package riot

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
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

// platformRegions maps each platform to its regional cluster for match-v5.
// golio v1.0.0's own table sends oc1 to americas and knows no me1.
var platformRegions = map[string]string{
	"na1": "americas", "br1": "americas", "la1": "americas", "la2": "americas",
	"euw1": "europe", "eun1": "europe", "tr1": "europe", "ru": "europe", "me1": "europe",
	"kr": "asia", "jp1": "asia",
	"oc1": "sea", "sg2": "sea", "tw2": "sea", "vn2": "sea", "ph2": "sea", "th2": "sea",
}

// Platforms lists the platforms riftbridge can route, sorted.
func Platforms() []string {
	out := make([]string, 0, len(platformRegions))
	for p := range platformRegions {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// NormalizePlatform lowercases a platform and checks that it is known.
func NormalizePlatform(p string) (string, error) {
	lower := strings.ToLower(p)
	if _, ok := platformRegions[lower]; !ok {
		return "", fmt.Errorf("unknown platform %q (one of %s)", p, strings.Join(Platforms(), ", "))
	}
	return lower, nil
}

// accountRegion is the cluster for account-v1, which has no sea cluster;
// every cluster resolves every account, so sea players use asia.
func accountRegion(platform string) string {
	if r := platformRegions[platform]; r != "sea" {
		return r
	}
	return "asia"
}

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
	p, err := NormalizePlatform(platform)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e.name, err)
	}
	switch {
	case e.account:
		return accountRegion(p), nil
	case e.regional:
		return platformRegions[p], nil
	}
	return p, nil
}
