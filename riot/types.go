package riot

// The types below follow match-v5 as Riot serves it today. golio v1.0.0 still
// carries the v4 timeline shape (top-level frames, no championStats), which
// decodes real v5 JSON into zero frames without an error, so riftbridge owns
// these. Optional fields that Riot omits (rather than zeroes) are pointers or
// slices so "absent" stays distinguishable from 0.

// Timeline is a match-v5 timeline: GET /lol/match/v5/matches/{id}/timeline.
type Timeline struct {
	Metadata Metadata     `json:"metadata"`
	Info     TimelineInfo `json:"info"`
}

// Metadata is the wrapper shared by match and timeline documents.
type Metadata struct {
	DataVersion  string   `json:"dataVersion"`
	MatchID      string   `json:"matchId"`
	Participants []string `json:"participants"` // PUUIDs, in participantId order
}

// TimelineInfo holds the frames of a timeline.
type TimelineInfo struct {
	EndOfGameResult string                `json:"endOfGameResult"` // "GameComplete"; absent in older data
	FrameInterval   int64                 `json:"frameInterval"`   // ms, usually 60000
	GameID          int64                 `json:"gameId"`
	Participants    []TimelineParticipant `json:"participants"`
	Frames          []Frame               `json:"frames"`
}

// TimelineParticipant joins a participantId to a PUUID; the timeline has no team.
type TimelineParticipant struct {
	ParticipantID int    `json:"participantId"`
	PUUID         string `json:"puuid"`
}

// Frame is one snapshot (ms since game start) and the events of the interval
// before it: (previous frame timestamp, Timestamp].
type Frame struct {
	Timestamp         int64                    `json:"timestamp"`
	ParticipantFrames map[int]ParticipantFrame `json:"participantFrames"`
	Events            []Event                  `json:"events"`
}

// ParticipantFrame is one participant's state at a frame.
type ParticipantFrame struct {
	ParticipantID            int           `json:"participantId"`
	Level                    int           `json:"level"`
	XP                       int           `json:"xp"`
	CurrentGold              int           `json:"currentGold"`
	TotalGold                int           `json:"totalGold"`
	GoldPerSecond            int           `json:"goldPerSecond"`
	MinionsKilled            int           `json:"minionsKilled"`
	JungleMinionsKilled      int           `json:"jungleMinionsKilled"`
	TimeEnemySpentControlled int           `json:"timeEnemySpentControlled"` // ms, cumulative
	Position                 Position      `json:"position"`
	ChampionStats            ChampionStats `json:"championStats"`
	DamageStats              DamageStats   `json:"damageStats"`
}

// Position is a map coordinate.
type Position struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// ChampionStats are the 25 champion attributes of a participant frame.
type ChampionStats struct {
	AbilityHaste         int `json:"abilityHaste"`
	AbilityPower         int `json:"abilityPower"`
	Armor                int `json:"armor"`
	ArmorPen             int `json:"armorPen"`
	ArmorPenPercent      int `json:"armorPenPercent"`
	AttackDamage         int `json:"attackDamage"`
	AttackSpeed          int `json:"attackSpeed"`
	BonusArmorPenPercent int `json:"bonusArmorPenPercent"`
	BonusMagicPenPercent int `json:"bonusMagicPenPercent"`
	CCReduction          int `json:"ccReduction"`
	CooldownReduction    int `json:"cooldownReduction"`
	Health               int `json:"health"`
	HealthMax            int `json:"healthMax"`
	HealthRegen          int `json:"healthRegen"`
	Lifesteal            int `json:"lifesteal"`
	MagicPen             int `json:"magicPen"`
	MagicPenPercent      int `json:"magicPenPercent"`
	MagicResist          int `json:"magicResist"`
	MovementSpeed        int `json:"movementSpeed"`
	Omnivamp             int `json:"omnivamp"`
	PhysicalVamp         int `json:"physicalVamp"`
	Power                int `json:"power"`
	PowerMax             int `json:"powerMax"`
	PowerRegen           int `json:"powerRegen"`
	SpellVamp            int `json:"spellVamp"`
}

// DamageStats are the 12 cumulative damage counters of a participant frame.
type DamageStats struct {
	MagicDamageDone               int `json:"magicDamageDone"`
	MagicDamageDoneToChampions    int `json:"magicDamageDoneToChampions"`
	MagicDamageTaken              int `json:"magicDamageTaken"`
	PhysicalDamageDone            int `json:"physicalDamageDone"`
	PhysicalDamageDoneToChampions int `json:"physicalDamageDoneToChampions"`
	PhysicalDamageTaken           int `json:"physicalDamageTaken"`
	TotalDamageDone               int `json:"totalDamageDone"`
	TotalDamageDoneToChampions    int `json:"totalDamageDoneToChampions"`
	TotalDamageTaken              int `json:"totalDamageTaken"`
	TrueDamageDone                int `json:"trueDamageDone"`
	TrueDamageDoneToChampions     int `json:"trueDamageDoneToChampions"`
	TrueDamageTaken               int `json:"trueDamageTaken"`
}

// Event types riftbridge gives meaning to. Others are decoded into the same
// Event struct and counted by type.
const (
	EventBuildingKill         = "BUILDING_KILL"
	EventChampionKill         = "CHAMPION_KILL"
	EventChampionSpecialKill  = "CHAMPION_SPECIAL_KILL" // repeats a CHAMPION_KILL
	EventDragonSoulGiven      = "DRAGON_SOUL_GIVEN"
	EventEliteMonsterKill     = "ELITE_MONSTER_KILL"
	EventGameEnd              = "GAME_END"
	EventPauseEnd             = "PAUSE_END"
	EventTurretPlateDestroyed = "TURRET_PLATE_DESTROYED"
	EventWardKill             = "WARD_KILL"
	EventWardPlaced           = "WARD_PLACED"
)

// Event is any timeline event. Fields not used by a type stay at their zero
// value; fields Riot sometimes omits are pointers or nil slices.
type Event struct {
	Type          string `json:"type"`
	Timestamp     int64  `json:"timestamp"`               // ms since game start
	RealTimestamp *int64 `json:"realTimestamp,omitempty"` // epoch ms; PAUSE_*, GAME_END only

	ParticipantID int `json:"participantId,omitempty"`
	CreatorID     int `json:"creatorId,omitempty"`
	// KillerID 0 means no champion (minions, turrets, executions).
	KillerID                int   `json:"killerId,omitempty"`
	VictimID                int   `json:"victimId,omitempty"`
	AssistingParticipantIDs []int `json:"assistingParticipantIds,omitempty"` // may hold duplicates and enemies on monsters
	// TeamID is the team that LOST the structure on BUILDING_KILL and
	// TURRET_PLATE_DESTROYED, and the receiving team on DRAGON_SOUL_GIVEN.
	TeamID       int `json:"teamId,omitempty"`
	KillerTeamID int `json:"killerTeamId,omitempty"` // ELITE_MONSTER_KILL; 300 = no team

	BuildingType   string `json:"buildingType,omitempty"`
	LaneType       string `json:"laneType,omitempty"`
	TowerType      string `json:"towerType,omitempty"` // absent on inhibitors
	MonsterType    string `json:"monsterType,omitempty"`
	MonsterSubType string `json:"monsterSubType,omitempty"` // dragons only
	KillType       string `json:"killType,omitempty"`
	WardType       string `json:"wardType,omitempty"`
	LevelUpType    string `json:"levelUpType,omitempty"`
	Name           string `json:"name,omitempty"` // DRAGON_SOUL_GIVEN: soul element
	TransformType  string `json:"transformType,omitempty"`
	FeatType       *int   `json:"featType,omitempty"`
	FeatValue      *int   `json:"featValue,omitempty"`

	MultiKillLength  *int  `json:"multiKillLength,omitempty"`
	KillStreakLength *int  `json:"killStreakLength,omitempty"`
	Bounty           *int  `json:"bounty,omitempty"`
	ShutdownBounty   *int  `json:"shutdownBounty,omitempty"`
	Level            int   `json:"level,omitempty"`
	SkillSlot        int   `json:"skillSlot,omitempty"`
	ItemID           int   `json:"itemId,omitempty"`
	BeforeID         int   `json:"beforeId,omitempty"`
	AfterID          int   `json:"afterId,omitempty"`
	GoldGain         int   `json:"goldGain,omitempty"`
	WinningTeam      int   `json:"winningTeam,omitempty"`
	GameID           int64 `json:"gameId,omitempty"`
	ActualStartTime  int64 `json:"actualStartTime,omitempty"`

	Position             *Position        `json:"position,omitempty"`
	VictimDamageDealt    []DamageInstance `json:"victimDamageDealt,omitempty"`
	VictimDamageReceived []DamageInstance `json:"victimDamageReceived,omitempty"`
}

// DamageInstance is one entry of a kill's damage recap.
type DamageInstance struct {
	Basic          bool   `json:"basic"`
	MagicDamage    int    `json:"magicDamage"`
	PhysicalDamage int    `json:"physicalDamage"`
	TrueDamage     int    `json:"trueDamage"`
	Name           string `json:"name"`
	ParticipantID  int    `json:"participantId"`
	SpellName      string `json:"spellName"`
	SpellSlot      int    `json:"spellSlot"`
	Type           string `json:"type"` // OTHER, MINION, MONSTER, TOWER
}

// Match is a match-v5 match: GET /lol/match/v5/matches/{id}.
type Match struct {
	Metadata Metadata  `json:"metadata"`
	Info     MatchInfo `json:"info"`
}

// MatchInfo holds what riftbridge uses for tagging and for checks.
type MatchInfo struct {
	GameID             int64              `json:"gameId"`
	GameCreation       int64              `json:"gameCreation"`
	GameStartTimestamp int64              `json:"gameStartTimestamp"` // epoch ms
	GameEndTimestamp   int64              `json:"gameEndTimestamp"`   // epoch ms
	GameDuration       int64              `json:"gameDuration"`       // s when GameEndTimestamp is set
	GameVersion        string             `json:"gameVersion"`        // "14.7.571.9528"
	GameMode           string             `json:"gameMode"`
	GameType           string             `json:"gameType"`
	MapID              int                `json:"mapId"`
	PlatformID         string             `json:"platformId"`
	QueueID            int                `json:"queueId"`
	EndOfGameResult    string             `json:"endOfGameResult"`
	Participants       []MatchParticipant `json:"participants"`
	Teams              []Team             `json:"teams"`
}

// MatchParticipant is one player of a match.
type MatchParticipant struct {
	ParticipantID      int    `json:"participantId"`
	PUUID              string `json:"puuid"`
	RiotIDGameName     string `json:"riotIdGameName"`
	RiotIDTagline      string `json:"riotIdTagline"` // sic: lowercase l
	RiotIDName         string `json:"riotIdName"`    // older data, before riotIdGameName
	SummonerName       string `json:"summonerName"`
	ChampionID         int    `json:"championId"`
	ChampionName       string `json:"championName"`
	TeamID             int    `json:"teamId"`
	PlayerSubteamID    int    `json:"playerSubteamId"` // Arena
	TeamPosition       string `json:"teamPosition"`    // "" in ARAM/Arena
	IndividualPosition string `json:"individualPosition"`
	Win                bool   `json:"win"`
	Kills              int    `json:"kills"`
	Deaths             int    `json:"deaths"`
	Assists            int    `json:"assists"`
	GoldEarned         int    `json:"goldEarned"`
}

// Team is one side's result and objective totals.
type Team struct {
	TeamID     int                  `json:"teamId"`
	Win        bool                 `json:"win"`
	Objectives map[string]Objective `json:"objectives"` // baron, champion, dragon, horde, inhibitor, riftHerald, tower, atakhan
}

// Objective is a team's record for one objective kind.
type Objective struct {
	First bool `json:"first"`
	Kills int  `json:"kills"`
}
