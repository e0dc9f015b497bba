package mapper

// Spec documents one metric the mapper emits. The catalog is the single source
// of truth for the README table and the generated dashboards and monitors.
type Spec struct {
	Name        string   // without namespace, e.g. "team.gold"
	Kind        Kind     // Gauge or Count
	Unit        string   // Datadog unit name, e.g. "gold", "second", "event"
	Tags        []string // tag keys the metric can carry (where known)
	Description string
}

// Tag keys. Values are lowercased and sanitised for DogStatsD.
const (
	TagMatchID        = "match_id"
	TagPlatform       = "platform"
	TagQueue          = "queue"
	TagPatch          = "patch"
	TagGameMode       = "game_mode"
	TagTeam           = "team"
	TagParticipantID  = "participant_id"
	TagChampion       = "champion"
	TagPosition       = "position"
	TagEventType      = "event_type"
	TagKillerChampion = "killer_champion"
	TagVictimChampion = "victim_champion"
	TagMonsterType    = "monster_type"
	TagMonsterSubtype = "monster_subtype"
	TagBuildingType   = "building_type"
	TagLane           = "lane"
	TagTowerType      = "tower_type"
	TagDragonType     = "dragon_type"
	TagWardType       = "ward_type"
	TagMoment         = "moment"
	TagPlayer         = "player"
	TagChampionID     = "champion_id"
	TagEndpoint       = "endpoint"
	TagStatus         = "status"
	TagLimitType      = "limit_type"
	TagPoller         = "poller"
	TagTransport      = "transport"
)

// Metric names (without namespace).
const (
	MetricParticipantGold          = "participant.gold"
	MetricParticipantGoldCurrent   = "participant.gold.current"
	MetricParticipantGoldPerSecond = "participant.gold.per_second"
	MetricParticipantXP            = "participant.xp"
	MetricParticipantLevel         = "participant.level"
	MetricParticipantCS            = "participant.cs"
	MetricParticipantCSMinions     = "participant.cs.minions"
	MetricParticipantCSJungle      = "participant.cs.jungle"
	MetricParticipantPositionX     = "participant.position.x"
	MetricParticipantPositionY     = "participant.position.y"
	MetricParticipantCCTime        = "participant.time_enemy_spent_controlled"
	MetricParticipantKills         = "participant.kills"
	MetricParticipantDeaths        = "participant.deaths"
	MetricParticipantAssists       = "participant.assists"
	// Only the Live Client reports these.
	MetricParticipantWardScore    = "participant.ward_score"
	MetricParticipantRespawnTimer = "participant.respawn_timer"
	MetricParticipantDead         = "participant.dead"
	MetricParticipantItems        = "participant.items"
	participantChampionPrefix     = "participant.champion."
	participantDamagePrefix       = "participant.damage."

	MetricTeamGold          = "team.gold"
	MetricTeamXP            = "team.xp"
	MetricTeamCS            = "team.cs"
	MetricTeamKills         = "team.kills"
	MetricTeamDeaths        = "team.deaths"
	MetricTeamTowers        = "team.towers"
	MetricTeamInhibitors    = "team.inhibitors"
	MetricTeamPlates        = "team.plates"
	MetricTeamDragons       = "team.dragons"
	MetricTeamDragonsByType = "team.dragons.by_type"
	MetricTeamBarons        = "team.barons"
	MetricTeamHeralds       = "team.heralds"
	MetricTeamVoidgrubs     = "team.voidgrubs"
	MetricTeamAtakhans      = "team.atakhans"
	MetricTeamWardsPlaced   = "team.wards.placed"
	MetricTeamWardsKilled   = "team.wards.killed"

	MetricMatchGoldDiff = "match.gold_diff"
	MetricMatchXPDiff   = "match.xp_diff"
	MetricMatchGameTime = "match.game_time"

	MetricEventCount            = "event.count"
	MetricEventChampionKill     = "event.champion_kill"
	MetricEventEliteMonsterKill = "event.elite_monster_kill"
	MetricEventBuildingKill     = "event.building_kill"
	MetricEventWardPlaced       = "event.ward_placed"

	MetricLiveInGame     = "live.in_game"
	MetricLiveGameLength = "live.game_length"

	// The bridge's own telemetry, emitted by `riftbridge run`.
	MetricBridgeRequests         = "bridge.riot.requests"
	MetricBridgeLatency          = "bridge.riot.latency"
	MetricBridgeWait             = "bridge.riot.rate_limit_wait"
	MetricBridgeRateLimited      = "bridge.riot.rate_limited"
	MetricBridgeRetries          = "bridge.riot.retries"
	MetricBridgePollDuration     = "bridge.poll.duration"
	MetricBridgePollErrors       = "bridge.poll.errors"
	MetricBridgePollSkipped      = "bridge.poll.skipped"
	MetricBridgeMatches          = "bridge.matches_emitted"
	MetricBridgePoints           = "bridge.points_emitted"
	MetricBridgeOutsideIntake    = "bridge.points_outside_intake"
	MetricBridgeSinkErrors       = "bridge.sink.errors"
	MetricBridgePayloadsWritten  = "bridge.sink.payloads.written"
	MetricBridgePayloadsRetried  = "bridge.sink.payloads.retried"
	MetricBridgePayloadsDropped  = "bridge.sink.payloads.dropped"
	MetricBridgePointsWritten    = "bridge.sink.points.written"
	MetricBridgePointsDropped    = "bridge.sink.points.dropped"
	MetricBridgeUndelivered      = "bridge.frames_undelivered"
	MetricBridgePlayers          = "bridge.players"
	MetricBridgePlayersResolved  = "bridge.players.resolved"
	MetricBridgePlayersInGame    = "bridge.players.in_game"
	MetricBridgeStateUnavailable = "bridge.state.unavailable"
	MetricBridgeReplicas         = "bridge.replicas"
	MetricBridgeGoroutines       = "bridge.goroutines"
	MetricBridgeHeap             = "bridge.heap"

	// CheckCanConnect is the bridge's service check: OK while Riot answers,
	// CRITICAL when the key is rejected or Riot is unreachable.
	CheckCanConnect = "bridge.riot.can_connect"
)

// Notable moments, sent as Datadog events tagged moment:<name>.
const (
	MomentFirstBlood = "first_blood"
	MomentMultiKill  = "multikill"
	MomentAce        = "ace"
	MomentDragonSoul = "dragon_soul"
	MomentBaron      = "baron"
	MomentElder      = "elder_dragon"
	MomentAtakhan    = "atakhan"
	MomentGameEnd    = "game_end"
	// Live moments come from the spectator, for tracked players.
	MomentLiveGameStart = "live_game_start"
	MomentLiveGameEnd   = "live_game_end"
)

// Moments lists every notable moment the mapper can send as an event.
func Moments() []string {
	return []string{MomentFirstBlood, MomentMultiKill, MomentAce, MomentDragonSoul, MomentBaron, MomentElder, MomentAtakhan, MomentGameEnd, MomentLiveGameStart, MomentLiveGameEnd}
}

// ChampionStatNames are the snake_case names of the 25 championStats keys,
// in Riot's (alphabetical) order: lol.participant.champion.<name>.
func ChampionStatNames() []string {
	return []string{
		"ability_haste", "ability_power", "armor", "armor_pen", "armor_pen_percent",
		"attack_damage", "attack_speed", "bonus_armor_pen_percent", "bonus_magic_pen_percent",
		"cc_reduction", "cooldown_reduction", "health", "health_max", "health_regen",
		"lifesteal", "magic_pen", "magic_pen_percent", "magic_resist", "movement_speed",
		"omnivamp", "physical_vamp", "power", "power_max", "power_regen", "spell_vamp",
	}
}

// DamageStatNames are the snake_case names of the 12 damageStats keys:
// lol.participant.damage.<name>.
func DamageStatNames() []string {
	return []string{
		"magic_damage_done", "magic_damage_done_to_champions", "magic_damage_taken",
		"physical_damage_done", "physical_damage_done_to_champions", "physical_damage_taken",
		"total_damage_done", "total_damage_done_to_champions", "total_damage_taken",
		"true_damage_done", "true_damage_done_to_champions", "true_damage_taken",
	}
}

// Catalog lists every metric the mapper emits.
func Catalog() []Spec {
	match := []string{TagMatchID, TagPlatform, TagQueue, TagPatch, TagGameMode}
	with := func(extra ...string) []string { return append(append([]string{}, match...), extra...) }
	participant := with(TagTeam, TagParticipantID, TagChampion, TagPosition)
	team := with(TagTeam)
	// The Live Client knows no queue, patch or participant id.
	liveParticipant := []string{TagMatchID, TagPlatform, TagGameMode, TagTeam, TagChampion, TagPosition}
	// Team objectives in a live game come from the client's events.
	liveObjective := "; live: from the client's events, only when their history is complete (not for a spectator who joined mid-game)."

	specs := []Spec{
		{MetricParticipantGold, Gauge, "gold", participant, "Total gold earned so far (the figure Riot's totalGold reports)."},
		{MetricParticipantGoldCurrent, Gauge, "gold", participant, "Unspent gold; live: the active player's only (the client withholds the others')."},
		{MetricParticipantGoldPerSecond, Gauge, "gold", participant, "Passive gold income per second."},
		{MetricParticipantXP, Gauge, "point", participant, "Experience earned so far."},
		{MetricParticipantLevel, Gauge, "level", participant, "Champion level; live: every player's."},
		{MetricParticipantCS, Gauge, "unit", participant, "Creep score: lane minions plus jungle monsters; live: the client's creepScore, which moves in steps of 10."},
		{MetricParticipantCSMinions, Gauge, "unit", participant, "Lane minions killed."},
		{MetricParticipantCSJungle, Gauge, "unit", participant, "Jungle monsters killed."},
		{MetricParticipantPositionX, Gauge, "unit", participant, "Map x coordinate at the frame."},
		{MetricParticipantPositionY, Gauge, "unit", participant, "Map y coordinate at the frame."},
		{MetricParticipantCCTime, Gauge, "second", participant, "Cumulative time this participant kept enemies crowd-controlled."},
		{MetricParticipantKills, Gauge, "kill", participant, "Champion kills so far; live: from the Live Client's scores."},
		{MetricParticipantDeaths, Gauge, "death", participant, "Deaths so far; live: from the Live Client's scores."},
		{MetricParticipantAssists, Gauge, "assist", participant, "Kill assists so far; live: from the Live Client's scores."},
		{MetricParticipantWardScore, Gauge, "point", liveParticipant, "Live only: the player's ward (vision) score."},
		{MetricParticipantRespawnTimer, Gauge, "second", liveParticipant, "Live only: seconds until a dead champion respawns; 0 while alive."},
		{MetricParticipantDead, Gauge, "unit", liveParticipant, "Live only: 1 while the champion is dead, else 0."},
		{MetricParticipantItems, Gauge, "item", liveParticipant, "Live only: inventory slots filled (0–6), the trinket left out; a stack counts once."},
	}
	liveStats := map[string]string{}
	for _, n := range liveStatNames() {
		liveStats[n] = "; live: the active player's only"
	}
	for _, n := range []string{"armor_pen_percent", "bonus_armor_pen_percent", "bonus_magic_pen_percent", "magic_pen_percent"} {
		liveStats[n] = " (percent of resistance ignored); live: the active player's only, 100 × (1 − the client's multiplier)"
	}
	for _, n := range ChampionStatNames() {
		specs = append(specs, Spec{participantChampionPrefix + n, Gauge, "stat", participant, "Champion stat " + n + " at the frame" + liveStats[n] + "."})
	}
	for _, n := range DamageStatNames() {
		specs = append(specs, Spec{participantDamagePrefix + n, Gauge, "damage", participant, "Cumulative " + n + "."})
	}
	specs = append(specs,
		Spec{MetricTeamGold, Gauge, "gold", team, "Sum of the team's total gold."},
		Spec{MetricTeamXP, Gauge, "point", team, "Sum of the team's experience."},
		Spec{MetricTeamCS, Gauge, "unit", team, "Sum of the team's creep score; live: of the players' creepScore."},
		Spec{MetricTeamKills, Gauge, "kill", team, "Champion kills by the team so far (executions excluded); live: sum of the players' scores."},
		Spec{MetricTeamDeaths, Gauge, "death", team, "Deaths of the team's champions so far (executions included); live: sum of the players' scores."},
		Spec{MetricTeamTowers, Gauge, "building", team, "Enemy towers destroyed by the team" + liveObjective},
		Spec{MetricTeamInhibitors, Gauge, "building", team, "Enemy inhibitors destroyed by the team" + liveObjective},
		Spec{MetricTeamPlates, Gauge, "unit", team, "Enemy turret plates taken by the team."},
		Spec{MetricTeamDragons, Gauge, "unit", team, "Dragons slain by the team, elder included" + liveObjective},
		Spec{MetricTeamDragonsByType, Gauge, "unit", with(TagTeam, TagDragonType), "Dragons slain by the team, by dragon type" + liveObjective},
		Spec{MetricTeamBarons, Gauge, "unit", team, "Baron Nashor kills" + liveObjective},
		Spec{MetricTeamHeralds, Gauge, "unit", team, "Rift Herald kills" + liveObjective},
		Spec{MetricTeamVoidgrubs, Gauge, "unit", team, "Voidgrub (horde) kills" + liveObjective},
		Spec{MetricTeamAtakhans, Gauge, "unit", team, "Atakhan kills" + liveObjective},
		Spec{MetricTeamWardsPlaced, Gauge, "unit", team, "Wards placed by the team."},
		Spec{MetricTeamWardsKilled, Gauge, "unit", team, "Enemy wards destroyed by the team."},
		Spec{MetricMatchGoldDiff, Gauge, "gold", match, "Team gold, blue minus red."},
		Spec{MetricMatchXPDiff, Gauge, "point", match, "Team experience, blue minus red."},
		Spec{MetricMatchGameTime, Gauge, "second", match, "Game clock at the frame; live: at the poll."},
		Spec{MetricEventCount, Count, "event", with(TagEventType), "Timeline events, by type (snake_case of Riot's type); live: Live Client events, by snake_case EventName (dragon_kill, turret_killed…), each counted once."},
		Spec{MetricEventChampionKill, Count, "kill", with(TagTeam, TagKillerChampion, TagVictimChampion), "Champion kills by killer and victim champion; team is the killer's; live: from ChampionKill."},
		Spec{MetricEventEliteMonsterKill, Count, "unit", with(TagTeam, TagMonsterType, TagMonsterSubtype), "Epic monster kills; team is the killer's; live: from DragonKill, HeraldKill, HordeKill, BaronKill and AtakhanKill."},
		Spec{MetricEventBuildingKill, Count, "building", with(TagTeam, TagBuildingType, TagLane, TagTowerType), "Structures destroyed; team is the destroyer's; live: from TurretKilled and InhibKilled."},
		Spec{MetricEventWardPlaced, Count, "unit", with(TagTeam, TagWardType), "Wards placed, by ward type."},

		Spec{MetricLiveInGame, Gauge, "unit", []string{TagPlatform, TagPlayer}, "1 while a tracked player is in a live game, else 0 (spectator-v5)."},
		Spec{MetricLiveGameLength, Gauge, "second", []string{TagPlatform, TagPlayer, TagQueue, TagGameMode, TagTeam, TagChampionID}, "Game clock of a tracked player's live game."},

		Spec{MetricBridgeRequests, Count, "request", []string{TagEndpoint, TagStatus}, "Riot API responses by endpoint and HTTP status (0 = network error)."},
		Spec{MetricBridgeLatency, Distribution, "second", []string{TagEndpoint}, "Riot API response time."},
		Spec{MetricBridgeWait, Distribution, "second", []string{TagEndpoint}, "Time a request waited for rate-limit budget."},
		Spec{MetricBridgeRateLimited, Count, "response", []string{TagEndpoint, TagLimitType}, "429 answers by X-Rate-Limit-Type (application, method, service, untyped)."},
		Spec{MetricBridgeRetries, Count, "request", []string{TagEndpoint}, "Retries after a 429, a 5xx or a network error."},
		Spec{MetricBridgePollDuration, Distribution, "second", []string{TagPoller}, "Duration of one poll."},
		Spec{MetricBridgePollErrors, Count, "unit", []string{TagPoller}, "Polls that failed."},
		Spec{MetricBridgePollSkipped, Count, "unit", []string{TagPoller}, "Ticks skipped because the previous poll still ran."},
		Spec{MetricBridgeMatches, Count, "unit", nil, "Finished matches emitted."},
		Spec{MetricBridgePoints, Count, "point", nil, "Points handed to the sink."},
		Spec{MetricBridgeOutsideIntake, Count, "point", nil, "Points of finished matches not sent because Datadog's intake would drop them (older than 1 hour)."},
		Spec{MetricBridgeSinkErrors, Count, "error", nil, "Points, events or payloads the sink dropped or failed to deliver."},
		Spec{MetricBridgePayloadsWritten, Count, "payload", []string{TagTransport}, "DogStatsD payloads written to the Agent's socket (udp or uds)."},
		Spec{MetricBridgePayloadsRetried, Count, "payload", []string{TagTransport}, "Payloads written only after waiting for an Agent that was slow, restarting or away."},
		Spec{MetricBridgePayloadsDropped, Count, "payload", []string{TagTransport}, "Payloads not written: the Agent away longer than statsd.patience, or datadog-go's queue full."},
		Spec{MetricBridgePointsWritten, Count, "point", []string{TagTransport}, "Metric lines in the payloads written."},
		Spec{MetricBridgePointsDropped, Count, "point", []string{TagTransport}, "Metric lines in the payloads dropped; the frames they belong to are sent again."},
		Spec{MetricBridgeUndelivered, Count, "unit", nil, "Frames of finished matches the sink could not deliver; their match is sent again from that frame."},
		Spec{MetricBridgePlayers, Gauge, "unit", nil, "Tracked players; with replicas, those this replica polls."},
		Spec{MetricBridgePlayersResolved, Gauge, "unit", nil, "Tracked players whose Riot ID is resolved to a PUUID."},
		Spec{MetricBridgePlayersInGame, Gauge, "unit", nil, "Tracked players in a live game."},
		Spec{MetricBridgeStateUnavailable, Count, "unit", []string{TagPoller}, "Polls and heartbeats that failed because Redis (state or shared rate limit) could not be reached."},
		Spec{MetricBridgeReplicas, Gauge, "unit", nil, "Live replicas sharing this replica's Redis (state.backend redis only)."},
		Spec{MetricBridgeGoroutines, Gauge, "unit", nil, "Goroutines of the riftbridge process."},
		Spec{MetricBridgeHeap, Gauge, "byte", nil, "Heap memory in use by live and not yet collected objects (Go runtime/metrics /memory/classes/heap/objects:bytes)."},
	)
	return specs
}
