package mapper

import (
	"slices"
	"strconv"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// participantTagsFor returns (and caches) the tags of one participant.
func (m *Mapper) participantTagsFor(id int) []string {
	if tags, ok := m.participantTags[id]; ok {
		return tags
	}
	p := m.info.Participants[id]
	tags := slices.Clip(m.match)
	tags = m.tags.add(tags, TagTeam, teamName(p.Team))
	tags = m.tags.add(tags, TagParticipantID, strconv.Itoa(id))
	tags = m.tags.add(tags, TagChampion, p.Champion)
	tags = m.tags.add(tags, TagPosition, p.Position)
	m.participantTags[id] = slices.Clip(tags)
	return m.participantTags[id]
}

// frameIDs lists the frame's participants in order: the known roster first,
// then any participant only the frame knows about.
func (m *Mapper) frameIDs(f *riot.Frame) []int {
	ids := make([]int, 0, len(f.ParticipantFrames))
	for _, id := range m.ids {
		if _, ok := f.ParticipantFrames[id]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == len(f.ParticipantFrames) {
		return ids
	}
	for id := range f.ParticipantFrames {
		if _, known := m.info.Participants[id]; !known {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (m *Mapper) participantPoints(f *riot.Frame, at time.Time, b *Batch) {
	for _, id := range m.frameIDs(f) {
		pf := f.ParticipantFrames[id]
		tags := m.participantTagsFor(id)
		gauge := func(name string, v int) {
			b.Points = append(b.Points, Point{Name: name, Kind: Gauge, Value: float64(v), Tags: tags, Time: at})
		}
		gauge(MetricParticipantGold, pf.TotalGold)
		gauge(MetricParticipantGoldCurrent, pf.CurrentGold)
		gauge(MetricParticipantGoldPerSecond, pf.GoldPerSecond)
		gauge(MetricParticipantXP, pf.XP)
		gauge(MetricParticipantLevel, pf.Level)
		gauge(MetricParticipantCS, pf.MinionsKilled+pf.JungleMinionsKilled)
		gauge(MetricParticipantCSMinions, pf.MinionsKilled)
		gauge(MetricParticipantCSJungle, pf.JungleMinionsKilled)
		gauge(MetricParticipantPositionX, pf.Position.X)
		gauge(MetricParticipantPositionY, pf.Position.Y)
		b.Points = append(b.Points, Point{Name: MetricParticipantCCTime, Kind: Gauge, Value: float64(pf.TimeEnemySpentControlled) / 1000, Tags: tags, Time: at})
		k := m.kdaOf(id)
		gauge(MetricParticipantKills, k.kills)
		gauge(MetricParticipantDeaths, k.deaths)
		gauge(MetricParticipantAssists, k.assists)

		for i, v := range championStatValues(&pf.ChampionStats) {
			gauge(m.championMetrics[i], v)
		}
		for i, v := range damageStatValues(&pf.DamageStats) {
			gauge(m.damageMetrics[i], v)
		}
	}
}

func (m *Mapper) kdaOf(id int) *kda {
	k, ok := m.kda[id]
	if !ok {
		k = &kda{}
		m.kda[id] = k
	}
	return k
}

// championStatValues lists the stats in ChampionStatNames order.
func championStatValues(s *riot.ChampionStats) [25]int {
	return [25]int{
		s.AbilityHaste, s.AbilityPower, s.Armor, s.ArmorPen, s.ArmorPenPercent,
		s.AttackDamage, s.AttackSpeed, s.BonusArmorPenPercent, s.BonusMagicPenPercent,
		s.CCReduction, s.CooldownReduction, s.Health, s.HealthMax, s.HealthRegen,
		s.Lifesteal, s.MagicPen, s.MagicPenPercent, s.MagicResist, s.MovementSpeed,
		s.Omnivamp, s.PhysicalVamp, s.Power, s.PowerMax, s.PowerRegen, s.SpellVamp,
	}
}

// damageStatValues lists the stats in DamageStatNames order.
func damageStatValues(s *riot.DamageStats) [12]int {
	return [12]int{
		s.MagicDamageDone, s.MagicDamageDoneToChampions, s.MagicDamageTaken,
		s.PhysicalDamageDone, s.PhysicalDamageDoneToChampions, s.PhysicalDamageTaken,
		s.TotalDamageDone, s.TotalDamageDoneToChampions, s.TotalDamageTaken,
		s.TrueDamageDone, s.TrueDamageDoneToChampions, s.TrueDamageTaken,
	}
}
