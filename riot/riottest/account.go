package riottest

import "net/http"

// account is account-v1's AccountDto.
type account struct {
	PUUID    string `json:"puuid"`
	GameName string `json:"gameName"`
	TagLine  string `json:"tagLine"`
}

// account serves GET /riot/account/v1/accounts/by-riot-id/{gameName}/{tagLine}.
// Any of americas, asia and europe resolves any account, as on Riot.
func (s *Server) account(req request) reply {
	gameName, tagLine := req.args[0], req.args[1]
	puuid, ok := s.riotIDs[riotIDKey(gameName, tagLine)]
	if !ok {
		return errorReply(http.StatusNotFound, "Data not found - No results found for player with riot id "+gameName+"#"+tagLine)
	}
	p := s.players[puuid]
	return jsonReply(account{PUUID: p.puuid, GameName: p.gameName, TagLine: p.tagLine})
}
