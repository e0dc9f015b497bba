package state

import "github.com/cespare/xxhash/v2"

// Owner returns the member that owns key by rendezvous (highest random
// weight) hashing, or "" when there are no members. Every process computes
// the same answer from the same members, in any order. When a member leaves,
// only its keys move, spread over the others; when one joins, it takes about
// 1/n of the keys, from every member alike.
//
// The weight of a member for a key mixes the two strings' xxhash values,
// which, unlike hash/maphash, are the same in every process and machine.
func Owner(members []string, key string) string {
	kh := xxhash.Sum64String(key)
	var (
		best  string
		bestW uint64
	)
	for i, m := range members {
		w := mix64(xxhash.Sum64String(m) ^ kh)
		if i == 0 || w > bestW || (w == bestW && m < best) {
			best, bestW = m, w
		}
	}
	return best
}

// mix64 is splitmix64's finalizer: a bijection whose every output bit
// depends on every input bit, so xor-combined hashes weigh independently.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
