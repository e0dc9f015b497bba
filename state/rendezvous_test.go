package state

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func keys(n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = fmt.Sprintf("kr/player-%d#KR%d", i, i%7)
	}
	return k
}

func owners(members, keys []string) map[string]string {
	o := make(map[string]string, len(keys))
	for _, k := range keys {
		o[k] = Owner(members, k)
	}
	return o
}

func TestOwnerBalance(t *testing.T) {
	for _, members := range [][]string{
		{"riftbridge-0", "riftbridge-1", "riftbridge-2"},
		{"host-a:4242", "host-b:4242", "host-c:4242"},
		{"a", "b", "c"},
	} {
		t.Run(fmt.Sprint(members), func(t *testing.T) {
			count := map[string]int{}
			for _, o := range owners(members, keys(1000)) {
				count[o]++
			}
			want := 1000.0 / float64(len(members))
			for _, m := range members {
				if dev := math.Abs(float64(count[m])-want) / want; dev > 0.15 {
					t.Errorf("%s owns %d of 1000 keys, %.0f%% off an even share", m, count[m], dev*100)
				}
			}
		})
	}
}

func TestOwnerMovement(t *testing.T) {
	ks := keys(1000)
	three := []string{"riftbridge-0", "riftbridge-1", "riftbridge-2"}
	before := owners(three, ks)

	t.Run("a member leaves: only its keys move", func(t *testing.T) {
		after := owners([]string{"riftbridge-0", "riftbridge-2"}, ks)
		for _, k := range ks {
			if before[k] != "riftbridge-1" && after[k] != before[k] {
				t.Errorf("%s moved from %s to %s", k, before[k], after[k])
			}
		}
	})
	t.Run("a member joins: it takes about 1/n, from everyone", func(t *testing.T) {
		after := owners(append(slices.Clone(three), "riftbridge-3"), ks)
		moved := map[string]int{}
		for _, k := range ks {
			if after[k] == before[k] {
				continue
			}
			if after[k] != "riftbridge-3" {
				t.Fatalf("%s moved from %s to %s, not to the new member", k, before[k], after[k])
			}
			moved[before[k]]++
		}
		total := moved["riftbridge-0"] + moved["riftbridge-1"] + moved["riftbridge-2"]
		if dev := math.Abs(float64(total)-250) / 250; dev > 0.15 {
			t.Errorf("%d keys moved to the new member, want about 250", total)
		}
		for _, m := range three {
			if moved[m] == 0 {
				t.Errorf("the new member took nothing from %s", m)
			}
		}
	})
}

func TestOwnerDeterministic(t *testing.T) {
	members := []string{"riftbridge-0", "riftbridge-1", "riftbridge-2"}
	// Pinned: the same answer in every process, machine and release, or
	// replicas of different versions would disagree during a rollout.
	for _, tc := range []struct{ key, want string }{
		{"kr/Faker#KR1", "riftbridge-2"},
		{"euw1/Caps#EUW", "riftbridge-1"},
		{"na1/Doublelift#NA1", "riftbridge-0"},
		{"kr/Chovy#KR1", "riftbridge-1"},
		{"euw1/G2 Jankos#EUW", "riftbridge-0"},
	} {
		if got := Owner(members, tc.key); got != tc.want {
			t.Errorf("Owner(%v, %q) = %q, want %q", members, tc.key, got, tc.want)
		}
	}
	reversed := slices.Clone(members)
	slices.Reverse(reversed)
	for _, k := range keys(200) {
		if a, b := Owner(members, k), Owner(reversed, k); a != b {
			t.Fatalf("%s: owner %s, or %s with the members reversed", k, a, b)
		}
	}
	if got := Owner(nil, "kr/Faker#KR1"); got != "" {
		t.Errorf("no members: owner %q, want none", got)
	}
	if got := Owner([]string{"solo"}, "kr/Faker#KR1"); got != "solo" {
		t.Errorf("one member: owner %q, want solo", got)
	}
}
