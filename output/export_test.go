package output

// For the external tests (the real-Prometheus test, which runs the CLI).
var (
	DashboardQueries = dashboardQueries
	GrafanaVars      = grafanaVars
)
