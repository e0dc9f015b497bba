package riot

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// DefaultBaseURL is Riot's host template; {route} becomes a platform (kr,
// euw1) or a regional cluster (asia, europe).
const DefaultBaseURL = "https://{route}.api.riotgames.com"

// CheckBaseURL reports whether base is a usable host template.
func CheckBaseURL(base string) error {
	if !strings.Contains(base, "{route}") {
		return fmt.Errorf("riot base url %q: must contain {route}", base)
	}
	u, err := url.Parse(strings.ReplaceAll(base, "{route}", "kr"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("riot base url %q: must be an http(s) url such as %s", base, DefaultBaseURL)
	}
	return nil
}

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

// Region is the regional cluster of a known platform, where match-v5 serves
// its matches: americas, europe, asia or sea.
func Region(platform string) string { return platformRegions[platform] }

// AccountRegion is the cluster account-v1 answers a platform's players on:
// it has no sea cluster, and every cluster resolves every account, so sea
// players use asia.
func AccountRegion(platform string) string {
	if r := platformRegions[platform]; r != "sea" {
		return r
	}
	return "asia"
}
