package dashboards

// Metrics and service checks of the Agent's own checks (system core checks,
// mysql, mongo) that the host dashboard shows beside the match. They carry
// no riftbridge namespace.
const (
	systemCPUUser    = "system.cpu.user"
	systemCPUSystem  = "system.cpu.system"
	systemCPUIOWait  = "system.cpu.iowait"
	systemMemUsable  = "system.mem.pct_usable"
	systemLoadNorm   = "system.load.norm.1"
	mysqlQueries     = "mysql.performance.queries"
	mysqlSlowQueries = "mysql.performance.slow_queries"
	mysqlConnections = "mysql.net.connections"
	mongoQueries     = "mongodb.opcounters.queryps"
	mongoInserts     = "mongodb.opcounters.insertps"
	mongoUpdates     = "mongodb.opcounters.updateps"
	mongoConnections = "mongodb.connections.current"
	mysqlCanConnect  = "mysql.can_connect"
	mongoCanConnect  = "mongodb.can_connect"
)

// integrationMetrics lists the Agent check metrics a query may name.
var integrationMetrics = []string{
	systemCPUUser, systemCPUSystem, systemCPUIOWait, systemMemUsable, systemLoadNorm,
	mysqlQueries, mysqlSlowQueries, mysqlConnections,
	mongoQueries, mongoInserts, mongoUpdates, mongoConnections,
}
