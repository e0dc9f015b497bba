// Package riot is the Riot data riftbridge reads: match-v5 matches and
// timelines, spectator-v5 games, their decoding, recordings of them, and
// Riot's platforms, hosts and rate-limit headers.
package riot
