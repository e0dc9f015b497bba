package state

import (
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/state/redisconn"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// The Bolt value of a live cursor, byte for byte, and its round trip at the
// edges of what SetLiveCursor accepts.
func TestLiveCursorRecordEncoding(t *testing.T) {
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	got := liveCursorRecord{next: 0x0102, gameTime: 1.5, at: at}.encode()
	want := []byte{1, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}
	want = binary.BigEndian.AppendUint64(want, uint64(at.UnixMilli()))
	if string(got) != string(want) {
		t.Fatalf("encoded % x, want % x", got, want)
	}
	for _, r := range []liveCursorRecord{
		{0, 0, at},
		{MaxLiveCursorNext, math.MaxFloat64, at},
		{1, math.SmallestNonzeroFloat64, at},
		{17, 754.3210987654321, time.UnixMilli(0)},
	} {
		back, err := decodeLiveCursor(r.encode())
		if err != nil || back.next != r.next || back.gameTime != r.gameTime || !back.at.Equal(r.at) {
			t.Errorf("%+v read back as %+v, %v", r, back, err)
		}
	}
	if v := (liveCursorRecord{next: 1, gameTime: math.Copysign(0, -1), at: at}).encode(); math.Signbit(math.Float64frombits(binary.BigEndian.Uint64(v[9:17]))) {
		t.Errorf("-0 stored with its sign: % x", v)
	}
}

// A live cursor that is not one Bolt wrote is an error naming the key and
// the file, never a panic, and a write repairs it.
func TestBoltLiveCursorCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	b, err := OpenBolt(path, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	valid := liveCursorRecord{next: 3, gameTime: 60, at: time.Now()}.encode()
	with := func(i int, bs ...byte) []byte {
		v := append([]byte(nil), valid...)
		copy(v[i:], bs)
		return v
	}
	u64 := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	for _, tc := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"empty", []byte{}, "live cursor of 0 bytes, want 25"},
		{"short", valid[:24], "live cursor of 24 bytes, want 25"},
		{"long", append(valid[:25:25], 0), "live cursor of 26 bytes, want 25"},
		{"a live-game marker", encodeLive(1, time.Now()), "live cursor of 16 bytes, want 25"},
		{"another version", with(0, 2), "live cursor version 2, want 1"},
		{"next over the bound", with(1, u64(MaxLiveCursorNext+1)...), "next event id 2147483648 over 2147483647"},
		{"next of 2^64-1", with(1, u64(math.MaxUint64)...), "next event id 18446744073709551615 over"},
		{"a NaN game time", with(9, u64(math.Float64bits(math.NaN()))...), "game time NaN is not"},
		{"an infinite game time", with(9, u64(math.Float64bits(math.Inf(1)))...), "game time +Inf is not"},
		{"a negative game time", with(9, u64(math.Float64bits(-2))...), "game time -2 is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketLiveCursors).Put([]byte("g 1"), tc.value)
			})
			if err != nil {
				t.Fatal(err)
			}
			next, gameTime, ok, err := b.LiveCursor(ctx(t), "g 1")
			prefix := `live cursor "g 1": state file ` + path + ": corrupt record: "
			if !errors.Is(err, ErrCorruptRecord) || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("live cursor: %v; want ErrCorruptRecord, %q…%q", err, prefix, tc.want)
			}
			if ok || next != 0 || gameTime != 0 {
				t.Fatalf("live cursor = %d at %v, ok=%v; want zeros with the error", next, gameTime, ok)
			}
			mustSetLiveCursor(t, b, "g 1", 4, 90)
			wantLiveCursor(t, b, "g 1", 4, 90)
		})
	}
}

// Bolt prunes a live cursor with the other records, a retention after its
// last write, at the hourly pass in a Finish and when the file is opened.
// A corrupt cursor stops the pass, as any corrupt record does, with an
// error naming it.
func TestBoltLiveCursorPruned(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "state.db")
	const retention = 2 * time.Hour
	open := func() *Bolt {
		t.Helper()
		b, err := OpenBolt(path, telemetry.Settings{Clock: clock}, BoltRetention(retention))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return b
	}
	prunePass := func(b *Bolt, id string) {
		t.Helper()
		wantClaim(t, b, id, "a", long, 0, true)
		mustFinish(t, b, id, "a", Emitted)
	}
	b := open()
	mustSetLiveCursor(t, b, "old", 1, 10)
	mustSetLiveCursor(t, b, "rewritten", 1, 10)
	clock.Advance(time.Hour)
	mustSetLiveCursor(t, b, "rewritten", 2, 3600)
	clock.Advance(time.Hour)
	prunePass(b, "KR_1")
	wantNoLiveCursor(t, b, "old")
	wantLiveCursor(t, b, "rewritten", 2, 3600)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Hour - time.Millisecond)
	b = open()
	wantLiveCursor(t, b, "rewritten", 2, 3600) // a millisecond short
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	b = open()
	wantNoLiveCursor(t, b, "rewritten")

	err := b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLiveCursors).Put([]byte("bad"), []byte{1, 2, 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = OpenBolt(path, telemetry.Settings{Clock: clock}, BoltRetention(retention))
	want := "open state file " + path + `: bucket livecursors key "bad": corrupt record: live cursor of 3 bytes, want 25`
	if !errors.Is(err, ErrCorruptRecord) || err.Error() != want {
		t.Fatalf("open with a corrupt cursor: %v, want %q", err, want)
	}
}

// Redis keeps a live cursor as a string under <prefix>livecursor:<key>,
// "<next> <game time>", expiring a retention after its last write.
func TestRedisLiveCursorLayout(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	r := newRedis(t, url, RedisPrefix(prefix), RedisRetention(time.Hour))
	raw := redistest.Client(t, url)
	const key = "CLASSIC|Hide on bush#KR1:Ahri"
	rkey := prefix + "livecursor:" + key
	mustSetLiveCursor(t, r, key, 12, 754.3210987654321)
	if v, err := raw.Get(t.Context(), rkey).Result(); err != nil || v != "12 754.3210987654321" {
		t.Fatalf("GET %s = %q, %v; want %q", rkey, v, err, "12 754.3210987654321")
	}
	ttl, err := raw.PTTL(t.Context(), rkey).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("PTTL %s = %v, %v; want within the hour's retention", rkey, ttl, err)
	}
	// Each write renews the expiry.
	if err := raw.PExpire(t.Context(), rkey, time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	mustSetLiveCursor(t, r, key, 3, 0)
	if ttl, err := raw.PTTL(t.Context(), rkey).Result(); err != nil || ttl <= time.Minute {
		t.Fatalf("PTTL after a rewrite = %v, %v; want the retention again", ttl, err)
	}
	if v, err := raw.Get(t.Context(), rkey).Result(); err != nil || v != "3 0" {
		t.Fatalf("GET %s = %q, %v; want %q", rkey, v, err, "3 0")
	}
}

// A value someone else wrote under a cursor's key is read if it is a
// cursor, else an error naming the key that wraps ErrCorruptRecord, not
// ErrUnavailable; a write replaces it.
func TestRedisLiveCursorForeign(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	r := newRedis(t, url, RedisPrefix(prefix))
	raw := redistest.Client(t, url)
	const key = "g 1"
	rkey := prefix + "livecursor:" + key

	for _, tc := range []struct {
		value    string
		next     int
		gameTime float64
	}{
		{"7 12.5", 7, 12.5},
		{"0 -0", 0, 0},
		{"2147483647 1e3", MaxLiveCursorNext, 1000},
	} {
		if err := raw.Set(t.Context(), rkey, tc.value, 0).Err(); err != nil {
			t.Fatal(err)
		}
		wantLiveCursor(t, r, key, tc.next, tc.gameTime)
	}

	for _, value := range []string{
		"", "abc", "5", "5 ", " 5 1", "5  1", "5 1 2", "5,1", "0x10 1",
		"-1 3", "5 -3", "5 NaN", "5 +Inf", "5 -Inf", "2147483648 1",
		"9223372036854775808 1", "5 1e400",
		strings.Repeat("9", 100<<10),
	} {
		if err := raw.Set(t.Context(), rkey, value, 0).Err(); err != nil {
			t.Fatal(err)
		}
		next, gameTime, ok, err := r.LiveCursor(t.Context(), key)
		prefix := `live cursor "g 1" on ` + redisconn.Redact(url) + ": corrupt record "
		if !errors.Is(err, ErrCorruptRecord) || errors.Is(err, redisconn.ErrUnavailable) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("value %s: %v; want ErrCorruptRecord starting %q", quoteBounded(value), err, prefix)
			continue
		}
		if ok || next != 0 || gameTime != 0 {
			t.Errorf("value %s: %d at %v, ok=%v; want zeros with the error", quoteBounded(value), next, gameTime, ok)
		}
		if len(err.Error()) > 300 {
			t.Errorf("value %s: an error of %d bytes, want it bounded", quoteBounded(value), len(err.Error()))
		}
	}

	if err := raw.Del(t.Context(), rkey).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(t.Context(), rkey, "next", 3).Err(); err != nil {
		t.Fatal(err)
	}
	_, _, ok, err := r.LiveCursor(t.Context(), key)
	if ok || !errors.Is(err, ErrCorruptRecord) || errors.Is(err, redisconn.ErrUnavailable) || !strings.Contains(err.Error(), `live cursor "g 1" on `) {
		t.Fatalf("a hash under the key: ok=%v, %v; want ErrCorruptRecord naming the key", ok, err)
	}
	mustSetLiveCursor(t, r, key, 4, 90)
	wantLiveCursor(t, r, key, 4, 90)
}
