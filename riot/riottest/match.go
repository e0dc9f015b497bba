package riottest

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxMatchIDs is match-v5's largest accepted count.
const maxMatchIDs = 100

// matchQuery holds the by-puuid ids parameters.
type matchQuery struct {
	start, count       int
	startTime, endTime *int64 // epoch s, inclusive, on the game's start
	queue              *int64
	gameType           string // ranked, normal, tourney or tutorial; "" for all
}

func parseMatchQuery(q url.Values) (matchQuery, error) {
	var mq matchQuery
	var err error
	if mq.start, err = intParam(q, "start", 0); err != nil || mq.start < 0 {
		return mq, errors.New("start must be an integer >= 0")
	}
	if mq.count, err = intParam(q, "count", 20); err != nil || mq.count < 0 || mq.count > maxMatchIDs {
		return mq, errors.New("count must be an integer between 0 and 100")
	}
	if mq.startTime, err = optionalInt(q, "startTime"); err != nil {
		return mq, err
	}
	if mq.endTime, err = optionalInt(q, "endTime"); err != nil {
		return mq, err
	}
	if mq.queue, err = optionalInt(q, "queue"); err != nil {
		return mq, err
	}
	switch mq.gameType = q.Get("type"); mq.gameType {
	case "", "ranked", "normal", "tourney", "tutorial":
		return mq, nil
	}
	return mq, errors.New("type must be one of ranked, normal, tourney, tutorial")
}

func intParam(q url.Values, name string, def int) (int, error) {
	if !q.Has(name) {
		return def, nil
	}
	return strconv.Atoi(q.Get(name))
}

func optionalInt(q url.Values, name string) (*int64, error) {
	if !q.Has(name) {
		return nil, nil
	}
	v, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil {
		return nil, errors.New(name + " must be an integer")
	}
	return &v, nil
}

// queueType is the match-v5 "type" of a queue. Scenario games never carry a
// tournament code, so none is "tourney".
func queueType(queue int) string {
	switch queue {
	case 420, 440:
		return "ranked"
	case 2000, 2010, 2020:
		return "tutorial"
	}
	return "normal"
}

func (mq matchQuery) keeps(g *game) bool {
	start := g.start.Unix()
	return (mq.startTime == nil || start >= *mq.startTime) &&
		(mq.endTime == nil || start <= *mq.endTime) &&
		(mq.queue == nil || int64(g.queueID) == *mq.queue) &&
		(mq.gameType == "" || queueType(g.queueID) == mq.gameType)
}

// matchIDs serves GET /lol/match/v5/matches/by-puuid/{puuid}/ids: the ids of
// the player's ended games, newest first. Another cluster answers an empty
// list, as Riot does, and the call counts as wrong-route.
func (s *Server) matchIDs(now time.Time, req request) reply {
	mq, err := parseMatchQuery(req.query)
	if err != nil {
		return errorReply(http.StatusBadRequest, "Bad Request - "+err.Error())
	}
	p, ok := s.players[req.args[0]]
	if !ok {
		return errorReply(http.StatusBadRequest, "Bad Request - Exception decrypting "+req.args[0])
	}
	if region := platformRegion[p.platform]; region != req.route {
		s.stats.WrongRoute++
	}
	var games []*game
	for _, g := range p.games {
		if !now.Before(g.end) && g.region() == req.route && mq.keeps(g) {
			games = append(games, g)
		}
	}
	slices.SortFunc(games, func(a, b *game) int {
		return cmp.Or(b.start.Compare(a.start), cmp.Compare(b.gameID, a.gameID))
	})
	games = games[min(mq.start, len(games)):]
	games = games[:min(mq.count, len(games))]
	ids := make([]string, len(games))
	for i, g := range games {
		ids[i] = g.matchID
	}
	return jsonReply(ids)
}

// matchDocument serves GET /lol/match/v5/matches/{matchId} and its
// /timeline: 404 until the game is processed, then the rewritten sample.
func (s *Server) matchDocument(now time.Time, req request) reply {
	id := req.args[0]
	notFound := errorReply(http.StatusNotFound, "Data not found - match file not found")
	g, ok := s.games[id]
	region := ""
	if ok {
		region = g.region()
	} else if prefix, _, found := strings.Cut(id, "_"); found {
		region = platformRegion[strings.ToLower(prefix)]
	}
	if region != "" && region != req.route {
		s.stats.WrongRoute++
		return notFound
	}
	if !ok || now.Before(g.processed) {
		return notFound
	}
	if req.endpoint == EndpointTimeline {
		return reply{status: http.StatusOK, render: g.timeline}
	}
	return reply{status: http.StatusOK, render: g.match}
}

// rewriteMatch makes the sample match g's: ids, platform, queue, times and
// players change; everything else (champions, gold, objectives) stays.
// gameDuration follows the game's Duration so it agrees with the timestamps.
func rewriteMatch(g *game, sample sampleGame, doc map[string]any) error {
	info, err := metadataAndInfo(g, doc)
	if err != nil {
		return err
	}
	parts, err := participants(info)
	if err != nil {
		return err
	}
	start := g.start.UnixMilli()
	info["gameName"] = "teambuilder-match-" + strconv.FormatInt(g.gameID, 10)
	info["platformId"] = g.platformID()
	info["queueId"] = g.queueID
	info["gameCreation"] = start - (sample.Info.GameStartTimestamp - sample.Info.GameCreation)
	info["gameStartTimestamp"] = start
	info["gameEndTimestamp"] = g.end.UnixMilli()
	info["gameDuration"] = int64(g.end.Sub(g.start) / time.Second)
	for i, p := range parts {
		p["puuid"] = g.players[i].puuid
		p["riotIdGameName"] = g.players[i].gameName
		p["riotIdTagline"] = g.players[i].tagLine
	}
	return nil
}

// rewriteTimeline makes the sample timeline g's: ids, PUUIDs and the epoch
// realTimestamps, which keep their offset to the game's start (GAME_END: to
// its end). Frames and events stay the sample's.
func rewriteTimeline(g *game, sample sampleGame, doc map[string]any) error {
	info, err := metadataAndInfo(g, doc)
	if err != nil {
		return err
	}
	parts, err := participants(info)
	if err != nil {
		return err
	}
	for i, p := range parts {
		p["puuid"] = g.players[i].puuid
	}
	frames, err := objects(info, "frames")
	if err != nil {
		return err
	}
	for _, frame := range frames {
		events, err := objects(frame, "events")
		if err != nil {
			return err
		}
		for _, ev := range events {
			sampleAnchor, anchor := sample.Info.GameStartTimestamp, g.start.UnixMilli()
			if ev["type"] == "GAME_END" {
				ev["gameId"] = g.gameID
				sampleAnchor, anchor = sample.Info.GameEndTimestamp, g.end.UnixMilli()
			}
			rt, ok := ev["realTimestamp"].(json.Number)
			if !ok {
				continue
			}
			ms, err := rt.Int64()
			if err != nil {
				return err
			}
			ev["realTimestamp"] = anchor + ms - sampleAnchor
		}
	}
	return nil
}
