// Package liveclient is the data model of League of Legends' Live Client
// Data API: the documents the game client serves on
// https://127.0.0.1:2999/liveclientdata/ while a game runs, their decoders,
// and helpers that attribute events to players and teams.
package liveclient

// The types follow what clients serve (testdata/ holds captures) more than
// Riot's OpenAPI description: newer clients add riotId fields and may drop
// summonerName, so both are kept and Player.ID picks one.

// AllGameData is GET /liveclientdata/allgamedata: everything at one moment.
type AllGameData struct {
	ActivePlayer ActivePlayer `json:"activePlayer"`
	AllPlayers   []Player     `json:"allPlayers"`
	Events       EventData    `json:"events"`
	GameData     GameStats    `json:"gameData"`
}

// ActivePlayer is the player whose client serves the API
// (GET /liveclientdata/activeplayer). Only for this player does the API give
// gold and champion stats; other players' gold is withheld.
type ActivePlayer struct {
	// Err is set, and every other field empty, when there is no active
	// player: a spectator's client answers {"error": "Spectator mode doesn't
	// currently support this feature"}.
	Err string `json:"error,omitempty"`

	// Abilities is nil when the client leaves it out.
	Abilities      *Abilities    `json:"abilities,omitempty"`
	ChampionStats  ChampionStats `json:"championStats"`
	CurrentGold    float64       `json:"currentGold"`
	FullRunes      FullRunes     `json:"fullRunes"`
	Level          int           `json:"level"`
	RiotID         string        `json:"riotId,omitempty"` // "GameName#TAG"
	RiotIDGameName string        `json:"riotIdGameName,omitempty"`
	RiotIDTagLine  string        `json:"riotIdTagLine,omitempty"`
	SummonerName   string        `json:"summonerName,omitempty"`
}

// ID is the active player's identity as Player.ID gives it, so the two can
// be matched with AllGameData.PlayerByName.
func (a *ActivePlayer) ID() string {
	if a.RiotID != "" {
		return a.RiotID
	}
	return a.SummonerName
}

// ChampionStats are the active player's current stats. The *PenetrationPercent
// fields are the multipliers applied to the target's resistance, so 1.0 means
// no penetration: with Void Staff's 40% the client sends
// magicPenetrationPercent 0.6. critDamage is in percent (175.0).
type ChampionStats struct {
	AbilityHaste                 float64 `json:"abilityHaste"`
	AbilityPower                 float64 `json:"abilityPower"`
	Armor                        float64 `json:"armor"`
	ArmorPenetrationFlat         float64 `json:"armorPenetrationFlat"`
	ArmorPenetrationPercent      float64 `json:"armorPenetrationPercent"`
	AttackDamage                 float64 `json:"attackDamage"`
	AttackRange                  float64 `json:"attackRange"`
	AttackSpeed                  float64 `json:"attackSpeed"`
	BonusArmorPenetrationPercent float64 `json:"bonusArmorPenetrationPercent"`
	BonusMagicPenetrationPercent float64 `json:"bonusMagicPenetrationPercent"`
	// CooldownReduction is only sent by clients from before ability haste
	// replaced it (patch 10.23).
	CooldownReduction       float64 `json:"cooldownReduction,omitempty"`
	CritChance              float64 `json:"critChance"`
	CritDamage              float64 `json:"critDamage"`
	CurrentHealth           float64 `json:"currentHealth"`
	HealShieldPower         float64 `json:"healShieldPower"`
	HealthRegenRate         float64 `json:"healthRegenRate"`
	LifeSteal               float64 `json:"lifeSteal"`
	MagicLethality          float64 `json:"magicLethality"`
	MagicPenetrationFlat    float64 `json:"magicPenetrationFlat"`
	MagicPenetrationPercent float64 `json:"magicPenetrationPercent"`
	MagicResist             float64 `json:"magicResist"`
	MaxHealth               float64 `json:"maxHealth"`
	MoveSpeed               float64 `json:"moveSpeed"`
	Omnivamp                float64 `json:"omnivamp"`
	PhysicalLethality       float64 `json:"physicalLethality"`
	PhysicalVamp            float64 `json:"physicalVamp"`
	ResourceMax             float64 `json:"resourceMax"`
	ResourceRegenRate       float64 `json:"resourceRegenRate"`
	ResourceType            string  `json:"resourceType"` // "MANA", "ENERGY", "NONE"…
	ResourceValue           float64 `json:"resourceValue"`
	SpellVamp               float64 `json:"spellVamp"`
	Tenacity                float64 `json:"tenacity"`
}

// Abilities are the active player's passive and spells
// (GET /liveclientdata/activeplayerabilities).
type Abilities struct {
	Passive Ability `json:"Passive"` // AbilityLevel is always 0
	Q       Ability `json:"Q"`
	W       Ability `json:"W"`
	E       Ability `json:"E"`
	R       Ability `json:"R"`
}

// Ability is one of the active player's abilities.
type Ability struct {
	AbilityLevel   int    `json:"abilityLevel,omitempty"`
	DisplayName    string `json:"displayName"`
	ID             string `json:"id"`
	RawDescription string `json:"rawDescription"`
	RawDisplayName string `json:"rawDisplayName"`
}

// FullRunes are the active player's runes
// (GET /liveclientdata/activeplayerrunes).
type FullRunes struct {
	GeneralRunes      []Rune     `json:"generalRunes"`
	Keystone          Rune       `json:"keystone"`
	PrimaryRuneTree   Rune       `json:"primaryRuneTree"`
	SecondaryRuneTree Rune       `json:"secondaryRuneTree"`
	StatRunes         []StatRune `json:"statRunes"`
}

// Rune is a rune or a rune tree.
type Rune struct {
	DisplayName    string `json:"displayName"`
	ID             int    `json:"id"`
	RawDescription string `json:"rawDescription"`
	RawDisplayName string `json:"rawDisplayName"`
}

// StatRune is a stat shard; it has no display name.
type StatRune struct {
	ID             int    `json:"id"`
	RawDescription string `json:"rawDescription"`
}

// Player is one entry of GET /liveclientdata/playerlist, bots included.
type Player struct {
	ChampionName    string  `json:"championName"` // display name: "Miss Fortune"
	IsBot           bool    `json:"isBot"`
	IsDead          bool    `json:"isDead"`
	Items           []Item  `json:"items"`
	Level           int     `json:"level"`
	Position        string  `json:"position"` // "TOP", "JUNGLE", "MIDDLE", "BOTTOM", "UTILITY"; "" outside ranked-like queues
	RawChampionName string  `json:"rawChampionName"`
	RawSkinName     string  `json:"rawSkinName,omitempty"`
	RespawnTimer    float64 `json:"respawnTimer"` // seconds left while dead
	RiotID          string  `json:"riotId,omitempty"`
	RiotIDGameName  string  `json:"riotIdGameName,omitempty"`
	RiotIDTagLine   string  `json:"riotIdTagLine,omitempty"`
	// Runes holds only the keystone and the two trees; only the active
	// player's full runes are served.
	Runes          PlayerRunes    `json:"runes"`
	Scores         Scores         `json:"scores"`
	SkinID         int            `json:"skinID"`
	SkinName       string         `json:"skinName,omitempty"`
	SummonerName   string         `json:"summonerName,omitempty"`
	SummonerSpells SummonerSpells `json:"summonerSpells"`
	Team           string         `json:"team"` // "ORDER" (blue) or "CHAOS" (red); see Team
}

// ID is a stable identity for p: its Riot ID when the client sends one, else
// its summoner name.
func (p *Player) ID() string {
	if p.RiotID != "" {
		return p.RiotID
	}
	return p.SummonerName
}

// Item is one inventory slot.
type Item struct {
	CanUse      bool   `json:"canUse"`
	Consumable  bool   `json:"consumable"`
	Count       int    `json:"count"`
	DisplayName string `json:"displayName"`
	ItemID      int    `json:"itemID"`
	// Price is the item's recipe cost, what completing it costs on top of
	// its components, not its total cost: summing prices undercounts gold.
	Price          int    `json:"price"`
	RawDescription string `json:"rawDescription"`
	RawDisplayName string `json:"rawDisplayName"`
	Slot           int    `json:"slot"` // 0–5 inventory, 6 trinket
}

// Scores is GET /liveclientdata/playerscores. CreepScore moves in steps of
// 10 in the client's reports.
type Scores struct {
	Assists    int     `json:"assists"`
	CreepScore int     `json:"creepScore"`
	Deaths     int     `json:"deaths"`
	Kills      int     `json:"kills"`
	WardScore  float64 `json:"wardScore"`
}

// PlayerRunes is GET /liveclientdata/playermainrunes.
type PlayerRunes struct {
	Keystone          Rune `json:"keystone"`
	PrimaryRuneTree   Rune `json:"primaryRuneTree"`
	SecondaryRuneTree Rune `json:"secondaryRuneTree"`
}

// SummonerSpells is GET /liveclientdata/playersummonerspells.
type SummonerSpells struct {
	SummonerSpellOne SummonerSpell `json:"summonerSpellOne"`
	SummonerSpellTwo SummonerSpell `json:"summonerSpellTwo"`
}

// SummonerSpell is one summoner spell; the client sends no id.
type SummonerSpell struct {
	DisplayName    string `json:"displayName"`
	RawDescription string `json:"rawDescription"`
	RawDisplayName string `json:"rawDisplayName"`
}

// EventData is GET /liveclientdata/eventdata.
type EventData struct {
	Events []Event `json:"Events"`
}

// Event names the client is known to send. Others may appear; they decode
// like any event, with their unknown fields in Event.Extra.
const (
	EventGameStart           = "GameStart"
	EventMinionsSpawning     = "MinionsSpawning"
	EventFirstBrick          = "FirstBrick" // first turret of the game
	EventFirstBlood          = "FirstBlood"
	EventTurretKilled        = "TurretKilled"
	EventInhibKilled         = "InhibKilled"
	EventInhibRespawningSoon = "InhibRespawningSoon"
	EventInhibRespawned      = "InhibRespawned"
	EventDragonKill          = "DragonKill"
	EventHeraldKill          = "HeraldKill"
	EventBaronKill           = "BaronKill"
	EventHordeKill           = "HordeKill" // voidgrubs
	EventAtakhanKill         = "AtakhanKill"
	EventChampionKill        = "ChampionKill"
	EventMultikill           = "Multikill"
	EventAce                 = "Ace"
	EventGameEnd             = "GameEnd"
)

// Event is one game event. Players are named by whatever the client uses for
// them (summoner name, Riot ID or its game name), bots by their summoner or
// champion name, and structures, minions and monsters by their object names
// ("Turret_T2_L_03_A", "Minion_T100L1S27N0164", "SRU_Baron12.1.1"):
// resolve them with AllGameData.PlayerByName and TeamOf.
type Event struct {
	EventID   int     `json:"EventID"`
	EventName string  `json:"EventName"`
	EventTime float64 `json:"EventTime"` // game seconds

	KillerName string   `json:"KillerName,omitempty"`
	VictimName string   `json:"VictimName,omitempty"` // ChampionKill
	Assisters  []string `json:"Assisters,omitempty"`
	// Recipient is who drew FirstBlood; FirstBrick names its taker in
	// KillerName.
	Recipient string `json:"Recipient,omitempty"`
	// Acer and AcingTeam ("ORDER" or "CHAOS") describe an Ace.
	Acer      string `json:"Acer,omitempty"`
	AcingTeam string `json:"AcingTeam,omitempty"`
	// KillStreak is a Multikill's size: 2 for a double kill.
	KillStreak int `json:"KillStreak,omitempty"`

	TurretKilled        string `json:"TurretKilled,omitempty"` // see ParseStructure
	InhibKilled         string `json:"InhibKilled,omitempty"`
	InhibRespawningSoon string `json:"InhibRespawningSoon,omitempty"`
	InhibRespawned      string `json:"InhibRespawned,omitempty"`

	// DragonType is "Fire", "Water", "Earth", "Air", "Hextech", "Chemtech"
	// or "Elder".
	DragonType string `json:"DragonType,omitempty"`
	// Stolen reports an epic monster taken by the team that did not damage
	// it most. The client sends it as the string "True" or "False".
	Stolen bool `json:"Stolen,omitempty"`

	// Result is GameEnd's "Win" or "Lose", for the active player's team.
	Result string `json:"Result,omitempty"`

	// Extra holds fields this model does not know, as decoded JSON values.
	// It is inlined by github.com/go-json-experiment/json, which the
	// decoders use; encoding/json would see a member named "Extra".
	Extra map[string]any `json:",embed"`
}

// GameStats is GET /liveclientdata/gamestats.
type GameStats struct {
	GameMode   string  `json:"gameMode"` // "CLASSIC", "ARAM", "PRACTICETOOL"…
	GameTime   float64 `json:"gameTime"` // game seconds
	MapName    string  `json:"mapName"`  // "Map11" is Summoner's Rift
	MapNumber  int     `json:"mapNumber"`
	MapTerrain string  `json:"mapTerrain"` // the drake soul's terrain: "Default", "Mountain", "Infernal"…
}
